package serve

import "time"

// logBatch is how long access log lines may wait to be written together.
const logBatch = 20 * time.Millisecond

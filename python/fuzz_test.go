package python

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

// encodeStart encodes a start frame's payload as worker.py does.
func encodeStart(status string, headers wsgi.Headers, exc string) []byte {
	fields := []string{status}
	for _, h := range headers {
		fields = append(fields, h.Name, h.Value)
	}
	flag := byte(0)
	if exc != "" {
		flag = 1
		fields = append([]string{exc}, fields...)
	}
	return append([]byte{flag}, []byte(joinNUL(fields))...)
}

func joinNUL(fields []string) string {
	var b []byte
	for i, f := range fields {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, f...)
	}
	return string(b)
}

func frameBytes(kind byte, payload []byte) []byte {
	return append(appendHeader(nil, kind, len(payload)), payload...)
}

// FuzzDecodeFrames feeds the Go side's decoder whatever a broken or hostile
// worker could send: it must return frames or an error, never panic, never
// allocate more than a frame's bound, and decode what it encodes.
func FuzzDecodeFrames(f *testing.F) {
	f.Add(frameBytes(frameStart, encodeStart("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}}, "")))
	f.Add(frameBytes(frameStart, encodeStart("500 Oops", nil, "ValueError: bad")))
	f.Add(append(frameBytes(frameChunk, []byte("hello")), frameBytes(frameDone, nil)...))
	f.Add(frameBytes(frameRead, []byte{0, 1, 0, 0}))
	f.Add(frameBytes(frameException, []byte(`{"type":"KeyError","message":"'x'","text":"Traceback","frames":[{"file":"/a.py","line":3,"function":"f","source":"x[1]","user":true}]}`)))
	f.Add(frameBytes(frameHello, []byte{0, 1}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'c'})
	f.Add([]byte{0, 0, 0, 9, 'c', 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(data), 64)
		for {
			kind, p, err := readFrame(r)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errProtocol) {
					t.Fatalf("readFrame: unexpected error %v", err)
				}
				return
			}
			if len(p) > len(data) {
				t.Fatalf("a payload of %d bytes from %d bytes of input", len(p), len(data))
			}
			switch kind {
			case frameStart:
				if call, err := decodeStart(p); err == nil {
					exc := ""
					if call.exc != nil {
						exc = call.exc.Error()
					}
					again, err := decodeStart(encodeStart(call.status, call.headers, exc))
					if err != nil || again.status != call.status || !slices.Equal(again.headers, call.headers) {
						t.Fatalf("start frame round trip: %+v, then %+v, %v", call, again, err)
					}
				}
			case frameRead:
				if n, err := decodeRead(p); err == nil && (n < 0 || n > inputBlock) {
					t.Fatalf("read of %d bytes", n)
				}
			case frameException:
				decodeException(p)
			case frameHello:
				decodeHello(kind, p)
			}
		}
	})
}

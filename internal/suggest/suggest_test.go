package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"demo", "hello", "admin"}
	for in, want := range map[string]string{"dmeo": "demo", "deom": "demo", "helo": "hello", "hello!": "hello", "xyzzy": "", "adnim": "admin"} {
		if got := Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}

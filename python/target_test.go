package python

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
	}{
		{"app.py", Target{File: "app.py"}},
		{"path/to/site.py:server", Target{File: "path/to/site.py", Name: "server"}},
		{"mysite.wsgi", Target{Module: "mysite.wsgi"}},
		{"mysite.wsgi:application", Target{Module: "mysite.wsgi", Name: "application"}},
		{"shop:create_app()", Target{Module: "shop", Name: "create_app", Call: true}},
		{`shop:create_app("dev", debug=True)`, Target{Module: "shop", Name: "create_app", Call: true, Args: `"dev", debug=True`}},
		{"app.py:app.wsgi_app", Target{File: "app.py", Name: "app.wsgi_app"}},
		{" app.py ", Target{File: "app.py"}},
		{"café.py:appli", Target{File: "café.py", Name: "appli"}},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if again, err := ParseTarget(got.String()); err != nil || again != got {
			t.Errorf("ParseTarget(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty Python target"},
		{"app.py:", "nothing after the colon"},
		{"mod:", "nothing after the colon"},
		{"my-site:app", "not a module name"},
		{"mod:1app", "not a callable's name"},
		{"mod:create_app(", "does not close"},
		{".py", "not a module's file name"},
	}
	for _, tt := range tests {
		_, err := ParseTarget(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTarget(%q) = %v; want an error saying %q", tt.in, err, tt.want)
		}
	}
}

func TestIsTarget(t *testing.T) {
	for _, s := range []string{"app.py", "mysite.wsgi:application", "shop:create_app()", "dir/app.py"} {
		if !IsTarget(s) {
			t.Errorf("IsTarget(%q) = false", s)
		}
	}
	for _, s := range []string{"demo", "hello", "my-app", "apps.demo"} {
		if IsTarget(s) {
			t.Errorf("IsTarget(%q) = true", s)
		}
	}
}

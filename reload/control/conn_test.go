package control

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestConnReadsWhatServersSay: the supervisor's end parses every message
// of the spec, skips what it does not know, and reads a hello in another
// version as a refusal that names both versions.
func TestConnReadsWhatServersSay(t *testing.T) {
	sup, server := net.Pipe()
	defer sup.Close()
	defer server.Close()
	go func() {
		for _, line := range []string{
			`{"type":"hello","protocol":1}`,
			`{"type":"greeting-from-the-future","x":1}`,
			`{"type":"ready"}`,
			`{"type":"stopped","cut_off":["GET /slow"]}`,
			`{"type":"refused","error":"unknown app \"helo\""}`,
			`{"type":"hello","protocol":7}`,
		} {
			server.Write([]byte(line + "\n"))
		}
	}()
	c := NewConn(sup)
	want := []Event{
		{Kind: Greeted},
		{Kind: Ready},
		{Kind: Stopped, CutOff: []string{"GET /slow"}},
		{Kind: Refused, Refusal: `unknown app "helo"`},
		{Kind: Refused, Refusal: Mismatch(Protocol, 7)},
	}
	for _, w := range want {
		got, err := c.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != w.Kind || got.Refusal != w.Refusal || strings.Join(got.CutOff, ",") != strings.Join(w.CutOff, ",") {
			t.Errorf("Next() = %+v, want %+v", got, w)
		}
	}
}

// TestConnSendsTheSpec: what the supervisor's end writes is the wire
// format docs/protocol.md gives, one JSON object a line.
func TestConnSendsTheSpec(t *testing.T) {
	sup, server := net.Pipe()
	defer sup.Close()
	defer server.Close()
	c := NewConn(sup)
	go func() {
		c.Hello(Hello{BuildID: "b1", Color: true, Problem: "Build failed"})
		for _, m := range []Message{Handover, Stop, StopNow, ReloadPages, ReloadStyles} {
			c.Send(m)
		}
	}()
	r := bufio.NewReader(server)
	var hello map[string]any
	line, _ := r.ReadString('\n')
	if err := json.Unmarshal([]byte(line), &hello); err != nil {
		t.Fatal(err)
	}
	if hello["type"] != "hello" || hello["protocol"] != float64(Protocol) || hello["build"] != "b1" || hello["color"] != true || hello["failure"] != "Build failed" {
		t.Errorf("hello = %v", hello)
	}
	for _, want := range []string{"handover", "stop", "stop-now", "reload-pages", "reload-styles"} {
		line, _ := r.ReadString('\n')
		if line != `{"type":"`+want+`"}`+"\n" {
			t.Errorf("got %q, want type %s", line, want)
		}
	}
	if err := c.Send(Message(99)); err == nil {
		t.Error("Send of an unknown message: no error")
	}
}

// TestSpecMatches: docs/protocol.md, the spec a server in another language
// follows, names every message, variable and descriptor of this package,
// and its version.
func TestSpecMatches(t *testing.T) {
	spec, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Version: **" + strconv.Itoa(Protocol) + "**",
		"`" + EnvControlFD + "`", "`" + EnvProtocol + "`", "`" + EnvOutputFD + "`",
		"| " + strconv.Itoa(ListenFD) + " |", "| " + strconv.Itoa(ControlFD) + " |", "| " + strconv.Itoa(OutputFD) + " |",
		"`" + typeHello + "`", "`" + typeReady + "`", "`" + typeRefused + "`", "`" + typeStopped + "`",
		"`cut_off`", "`failure`", "`build`", "`color`", "`protocol`", "`error`",
	}
	for m := range messageNames {
		want = append(want, "`"+m.String()+"`")
	}
	for _, w := range want {
		if !strings.Contains(string(spec), w) {
			t.Errorf("docs/protocol.md does not name %s", w)
		}
	}
}

package crmv1_test

import (
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// The line the SDK prints is the value the host parses.
func TestReattachLineParsesBack(t *testing.T) {
	want := crmv1.ReattachConfig{Protocol: "grpc", ProtocolVersion: crmv1.ProtocolVersion, Pid: 42,
		Network: "unix", Address: "/tmp/plugin123"}
	line, err := crmv1.ReattachLine("loyalty", want)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := strings.CutPrefix(line, crmv1.ReattachEnv+"='")
	if !ok || !strings.HasSuffix(v, "'") {
		t.Fatalf("line %q is not %s='...'", line, crmv1.ReattachEnv)
	}
	got, err := crmv1.ParseReattach(strings.TrimSuffix(v, "'"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["loyalty"] != want {
		t.Fatalf("parsed %+v, want loyalty: %+v", got, want)
	}
}

func TestParseReattachRefusesWhatCannotBeDialled(t *testing.T) {
	for _, in := range []string{
		`{"x": {"network": "carrier-pigeon", "address": "roof"}}`,
		`{"x": {"network": "tcp"}}`,
		`{"x": 1}`,
		`not json`,
	} {
		if _, err := crmv1.ParseReattach(in); err == nil || !strings.Contains(err.Error(), crmv1.ReattachEnv) {
			t.Errorf("ParseReattach(%s) = %v, want an error naming %s", in, err, crmv1.ReattachEnv)
		}
	}
	if got, err := crmv1.ParseReattach(""); err != nil || got != nil {
		t.Errorf(`ParseReattach("") = %v, %v; want nothing`, got, err)
	}
}

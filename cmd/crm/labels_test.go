package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckWarnsAboutMissingLabels: a language without a label is a
// warning, printed with its position; the check still passes. An unknown
// language code is an error.
func TestCheckWarnsAboutMissingLabels(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	os.WriteFile(cfg, []byte(`locale {
  languages = ["en", "hy", "fa", "ru"]
}
entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա", fa = "خودرو" }
  field "vin" {
    type   = "string"
    label  = "VIN"
    labels = { hy = "VIN", fa = "شماره شاسی", ru = "VIN" }
  }
}
`), 0o600)
	stdout, stderr, code := crm(t, "", "check", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if want := cfg + `:5:12: warning: entity "vehicle" has no label in ru`; !strings.Contains(stderr, want) {
		t.Errorf("crm check output lacks %q:\n%s", want, stderr)
	}
	if strings.Contains(stderr, `field "vin"`) {
		t.Errorf("a field with every label warned:\n%s", stderr)
	}

	os.WriteFile(cfg, []byte(`locale {
  languages = ["en", "fa"]
}
entity "vehicle" {
  labels = { fr = "Véhicule" }
}
`), 0o600)
	_, stderr, code = crm(t, "", "check", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, cfg+`:5:14: error: unknown language "fr" in the labels of entity "vehicle"`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

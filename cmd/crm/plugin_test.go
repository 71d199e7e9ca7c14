package main_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPluginList(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "loyalty")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("#!/bin/sh\n"))
	cfg := filepath.Join(dir, "crm.hcl")
	os.WriteFile(cfg, []byte(`
plugin "loyalty" {
  path   = "`+exe+`"
  sha256 = "`+hex.EncodeToString(sum[:])+`"
  read   = ["contact"]
}
plugin "tampered" {
  path   = "`+exe+`"
  sha256 = "`+strings.Repeat("0", 64)+`"
}
`), 0o600)
	out, stderr, code := crm(t, "", "plugin", "list", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"NAME", "loyalty", exe, "sha256 ok", "contact",
		"tampered", "REFUSED", "set sha256 = ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("crm plugin list lacks %q:\n%s", want, out)
		}
	}
}

func TestPluginServe(t *testing.T) {
	_, stderr, code := crm(t, "", "plugin", "serve", "nosuch")
	if code != 2 || !strings.Contains(stderr, `no built-in plugin "nosuch"`) {
		t.Errorf("serve an unknown plugin: exit %d, %s", code, stderr)
	}
	_, stderr, code = crm(t, "", "plugin", "serve")
	if code != 2 || !strings.Contains(stderr, "usage: crm plugin serve NAME") {
		t.Errorf("serve without a name: exit %d, %s", code, stderr)
	}
	out, _, code := crm(t, "", "help", "plugin")
	if code != 0 || !strings.Contains(out, "crm plugin list") {
		t.Errorf("help plugin: exit %d, %s", code, out)
	}
}

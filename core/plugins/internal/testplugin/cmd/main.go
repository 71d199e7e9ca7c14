// Command testplugin is the host tests' plugin binary; the tests build it
// with -ldflags "-X main.mode=MODE" (see testplugin.Main for the modes).
package main

import "github.com/crmkit/crm/core/plugins/internal/testplugin"

var mode = testplugin.ModeOK

func main() { testplugin.Main(mode) }

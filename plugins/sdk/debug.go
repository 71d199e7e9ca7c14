package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	goplugin "github.com/hashicorp/go-plugin"
)

// DebugEnv is the environment variable that makes Serve run the plugin in
// debug mode: started by hand (under a debugger, with breakpoints), it
// prints the line to give crm so that crm attaches to it instead of
// starting it, and serves until interrupted:
//
//	$ CRM_PLUGIN_DEBUG=1 dlv debug ./cmd/loyalty
//	CRM_REATTACH_PLUGINS='{"loyalty":{...}}'
//	$ CRM_REATTACH_PLUGINS='{"loyalty":{...}}' crm serve
const DebugEnv = "CRM_PLUGIN_DEBUG"

// ReattachEnv is the environment variable crm reads to attach to plugins
// served in debug mode: a JSON object of plugin name to reattach config.
const ReattachEnv = "CRM_REATTACH_PLUGINS"

// ReattachConfig is where a plugin in debug mode listens, as
// CRM_REATTACH_PLUGINS carries it.
type ReattachConfig struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocol_version"`
	Pid             int    `json:"pid"`
	Network         string `json:"network"`
	Address         string `json:"address"`
}

// serveDebug serves p in debug mode and prints the reattach line on stdout.
func serveDebug(p Plugin) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ch := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(serveConfig(p, &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: ch, CloseCh: closed}))
	select {
	case rc := <-ch:
		line, err := json.Marshal(map[string]ReattachConfig{p.Manifest().Name: {
			Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid,
			Network: rc.Addr.Network(), Address: rc.Addr.String(),
		}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "crm plugin debug:", err)
			return
		}
		fmt.Printf("%s='%s'\n", ReattachEnv, line)
	case <-ctx.Done():
	}
	<-closed
}

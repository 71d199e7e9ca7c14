package sdk

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/crmkit/crm/plugins/proto/crmv1"
	goplugin "github.com/hashicorp/go-plugin"
)

// DebugEnv is the environment variable that makes Serve run the plugin in
// debug mode: started by hand (under a debugger, with breakpoints), it
// prints the line to give crm so that crm attaches to it instead of
// starting it, and serves until interrupted. The line and the variable it
// sets (crmv1.ReattachEnv) are the protocol's reattach contract, defined in
// package crmv1 for both ends:
//
//	$ CRM_PLUGIN_DEBUG=1 dlv debug ./cmd/loyalty
//	CRM_REATTACH_PLUGINS='{"loyalty":{...}}'
//	$ CRM_REATTACH_PLUGINS='{"loyalty":{...}}' crm serve
const DebugEnv = "CRM_PLUGIN_DEBUG"

// serveDebug serves p in debug mode and prints the reattach line on stdout.
func serveDebug(p Plugin) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ch := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(serveConfig(p, &goplugin.ServeTestConfig{Context: ctx, ReattachConfigCh: ch, CloseCh: closed}))
	select {
	case rc := <-ch:
		line, err := crmv1.ReattachLine(p.Manifest().Name, crmv1.ReattachConfig{
			Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid,
			Network: rc.Addr.Network(), Address: rc.Addr.String(),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "crm plugin debug:", err)
			return
		}
		fmt.Println(line)
	case <-ctx.Done():
	}
	<-closed
}

package plugins

import (
	"fmt"
	"net"

	"github.com/crmkit/crm/plugins/proto/crmv1"
	goplugin "github.com/hashicorp/go-plugin"
)

// ParseReattach reads CRM_REATTACH_PLUGINS (crmv1.ReattachEnv), the line
// a plugin served in debug mode prints, into Options.Reattach. The host
// attaches to such a plugin instead of starting it (no checksum: the
// developer started it by hand).
func ParseReattach(s string) (map[string]*goplugin.ReattachConfig, error) {
	in, err := crmv1.ParseReattach(s)
	if err != nil || len(in) == 0 {
		return nil, err
	}
	out := make(map[string]*goplugin.ReattachConfig, len(in))
	for name, rc := range in {
		var addr net.Addr
		var err error
		switch rc.Network {
		case "unix":
			addr, err = net.ResolveUnixAddr("unix", rc.Address)
		case "tcp":
			addr, err = net.ResolveTCPAddr("tcp", rc.Address)
		default:
			err = fmt.Errorf("unknown network %q", rc.Network) // crmv1.ParseReattach refuses it first
		}
		if err != nil {
			return nil, fmt.Errorf("%s: plugin %s: %w", crmv1.ReattachEnv, name, err)
		}
		out[name] = &goplugin.ReattachConfig{Protocol: goplugin.Protocol(rc.Protocol), ProtocolVersion: rc.ProtocolVersion,
			Pid: rc.Pid, Addr: addr, Test: true}
	}
	return out, nil
}

package plugins

import (
	"encoding/json"
	"fmt"
	"net"

	"github.com/crmkit/crm/plugins/sdk"
	goplugin "github.com/hashicorp/go-plugin"
)

// ParseReattach reads CRM_REATTACH_PLUGINS, the line a plugin served in
// debug mode prints (see sdk.DebugEnv), into Options.Reattach. The host
// attaches to such a plugin instead of starting it (no checksum: the
// developer started it by hand).
func ParseReattach(s string) (map[string]*goplugin.ReattachConfig, error) {
	if s == "" {
		return nil, nil
	}
	var in map[string]sdk.ReattachConfig
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("%s: %w", sdk.ReattachEnv, err)
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
			err = fmt.Errorf("unknown network %q", rc.Network)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: plugin %s: %w", sdk.ReattachEnv, name, err)
		}
		out[name] = &goplugin.ReattachConfig{Protocol: goplugin.Protocol(rc.Protocol), ProtocolVersion: rc.ProtocolVersion,
			Pid: rc.Pid, Addr: addr, Test: true}
	}
	return out, nil
}

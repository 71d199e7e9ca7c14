package crmv1

import (
	"encoding/json"
	"fmt"
	"sort"
)

// The reattach contract. A plugin served in debug mode (the SDK's
// CRM_PLUGIN_DEBUG) is started by its developer, not by crm: it prints one
// line, ReattachEnv='{"name": ReattachConfig}', and crm started with that
// variable attaches to the listening plugin instead of starting it. The
// SDK writes the line with ReattachLine and the host reads it with
// ParseReattach, so both ends use this one definition.

// ReattachEnv is the environment variable crm reads to attach to plugins
// served in debug mode: a JSON object of plugin name to ReattachConfig.
const ReattachEnv = "CRM_REATTACH_PLUGINS"

// ReattachConfig is where a plugin in debug mode listens, as ReattachEnv
// carries it.
type ReattachConfig struct {
	// Protocol is go-plugin's wire protocol, "grpc".
	Protocol string `json:"protocol"`
	// ProtocolVersion is the plugin protocol version (ProtocolVersion).
	ProtocolVersion int `json:"protocol_version"`
	// Pid is the plugin process's id.
	Pid int `json:"pid"`
	// Network is "unix" or "tcp".
	Network string `json:"network"`
	// Address is the socket path or host:port the plugin listens on.
	Address string `json:"address"`
}

// ReattachLine is the line a plugin in debug mode prints for its developer
// to give crm: ReattachEnv='{"name": rc}'.
func ReattachLine(name string, rc ReattachConfig) (string, error) {
	b, err := json.Marshal(map[string]ReattachConfig{name: rc})
	if err != nil {
		return "", fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	return fmt.Sprintf("%s='%s'", ReattachEnv, b), nil
}

// ParseReattach reads the value of ReattachEnv: plugin name to where it
// listens. An empty value is no plugins; a network other than "unix" or
// "tcp", or an entry without an address, is an error naming the plugin.
func ParseReattach(s string) (map[string]ReattachConfig, error) {
	if s == "" {
		return nil, nil
	}
	var in map[string]ReattachConfig
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rc := in[name]
		if rc.Network != "unix" && rc.Network != "tcp" {
			return nil, fmt.Errorf("%s: plugin %s: unknown network %q (want unix or tcp)", ReattachEnv, name, rc.Network)
		}
		if rc.Address == "" {
			return nil, fmt.Errorf("%s: plugin %s: no address", ReattachEnv, name)
		}
	}
	return in, nil
}

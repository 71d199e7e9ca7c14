package plugins

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// handshake is what the host and a plugin check before the first call.
var handshake = goplugin.HandshakeConfig{
	MagicCookieKey:   crmv1.MagicCookieKey,
	MagicCookieValue: crmv1.MagicCookieValue,
}

// versions are the protocol versions this host speaks, each with the
// go-plugin plugin set that speaks it. A new protocol version is added here
// beside the old one, so that plugins built for the old one keep working.
func versions() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		crmv1.ProtocolVersion: {crmv1.PluginKey: grpcPlugin{}},
	}
}

func supportedVersions() string {
	var vs []string
	for v := range versions() {
		vs = append(vs, strconv.Itoa(v))
	}
	return strings.Join(vs, ", ")
}

// grpcPlugin is the host's side of go-plugin's Plugin: gRPC only.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (grpcPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the crm host does not serve plugins")
}

func (grpcPlugin) GRPCClient(_ context.Context, b *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &pluginConn{rpc: crmv1.NewPluginClient(c), broker: b}, nil
}

// pluginConn is a connection to a plugin: its service and its broker.
type pluginConn struct {
	rpc    crmv1.PluginClient
	broker *goplugin.GRPCBroker
}

// instance is one running process of a plugin.
type instance struct {
	client   *goplugin.Client
	cmd      *exec.Cmd
	rpc      crmv1.PluginClient
	broker   *goplugin.GRPCBroker
	manifest *Manifest
	routes   *routes // the manifest's webhook routes
	protocol int
	pid      int
	stderr   *tail
}

// launch starts a plugin's process, fetches and checks its manifest, serves
// it the Host service and configures it. On any error the process is gone
// when launch returns.
func launch(ctx context.Context, m *managed) (_ *instance, err error) {
	inst := &instance{stderr: newTail(8)}
	if rc := m.host.opts.Reattach[m.cfg.Name]; rc != nil {
		set := versions()[rc.ProtocolVersion]
		if set == nil {
			return nil, fmt.Errorf("plugin %q: %w: it speaks plugin protocol %d and this crm speaks %s",
				m.cfg.Name, ErrProtocol, rc.ProtocolVersion, supportedVersions())
		}
		// go-plugin picks the plugin set of a reattached plugin from
		// Plugins, not from VersionedPlugins.
		inst.client = goplugin.NewClient(&goplugin.ClientConfig{
			HandshakeConfig:  handshake,
			Plugins:          set,
			Reattach:         rc,
			AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
			Logger:           newHCLogger(m.log),
			GRPCDialOptions:  dialOptions(),
		})
		return inst.connect(ctx, m)
	}
	cmd, secure, err := m.command()
	if err != nil {
		return nil, err
	}
	isolate(cmd)
	cmd.Env = m.host.env()
	inst.cmd = cmd
	startTimeout := m.host.opts.StartTimeout
	if dl, ok := ctx.Deadline(); ok {
		startTimeout = time.Until(dl)
	}
	inst.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: versions(),
		Cmd:              cmd,
		SecureConfig:     secure,
		AutoMTLS:         true,
		Managed:          true,
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     startTimeout,
		Logger:           newHCLogger(m.log),
		// The process's own stderr: go-plugin parses its JSON lines into
		// Logger; the rest (a panic, a message before sdk.Serve) is logged
		// here and kept to explain a failed start.
		Stderr:          io.MultiWriter(inst.stderr, &rawStderr{lineWriter{log: m.log, level: slog.LevelWarn, stream: "stderr"}}),
		SyncStdout:      &lineWriter{log: m.log, level: slog.LevelInfo, stream: "stdout"},
		SyncStderr:      &lineWriter{log: m.log, level: slog.LevelWarn, stream: "stderr"},
		GRPCDialOptions: dialOptions(),
	})
	return inst.connect(ctx, m)
}

func dialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(crmv1.MaxMessageSize), grpc.MaxCallSendMsgSize(crmv1.MaxMessageSize))}
}

// connect connects to the started (or attached) plugin and hands it over.
func (inst *instance) connect(ctx context.Context, m *managed) (_ *instance, err error) {
	defer func() {
		if err != nil {
			inst.stop(m.log)
			if tail := inst.stderr.String(); tail != "" && errors.Is(err, ErrExited) {
				err = fmt.Errorf("%w; its last output: %s", err, tail)
			}
		}
	}()
	rpcClient, err := inst.client.Client()
	if inst.cmd != nil && inst.cmd.Process != nil {
		inst.pid = inst.cmd.Process.Pid
	}
	if err != nil {
		return nil, m.startError(err)
	}
	raw, err := rpcClient.Dispense(crmv1.PluginKey)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: connect: %w", m.cfg.Name, err)
	}
	conn := raw.(*pluginConn)
	inst.rpc, inst.broker, inst.protocol = conn.rpc, conn.broker, inst.client.NegotiatedVersion()
	if err := inst.handshake(ctx, m); err != nil {
		return nil, err
	}
	return inst, nil
}

// handshake fetches and checks the manifest, serves the Host service and
// sends the plugin its configuration.
func (inst *instance) handshake(ctx context.Context, m *managed) error {
	name := m.cfg.Name
	cctx, cancel := context.WithTimeout(ctx, m.host.opts.CallTimeout)
	defer cancel()
	resp, err := inst.rpc.Manifest(cctx, &crmv1.ManifestRequest{})
	if err != nil {
		return fmt.Errorf("plugin %q: fetch its manifest: %w", name, callErr(err, m.host.opts.CallTimeout))
	}
	if inst.manifest, err = manifestFromProto(resp.GetManifest(), inst.protocol); err != nil {
		return fmt.Errorf("plugin %q: %w", name, err)
	}
	if inst.routes, err = newRoutes(inst.manifest.Webhooks); err != nil {
		return fmt.Errorf("plugin %q: %w", name, err)
	}
	if err := checkEvents(inst.manifest, m.host.opts.Schema); err != nil {
		return fmt.Errorf("plugin %q: %w", name, err)
	}
	svc := newHostService(m, inst.manifest)
	id := inst.broker.NextId()
	go inst.broker.AcceptAndServe(id, svc.server)
	cfg := m.cfg.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("plugin %q: encode its config: %w", name, err)
	}
	cresp, err := inst.rpc.Configure(cctx, &crmv1.ConfigureRequest{
		Name: name, ConfigJson: cfgJSON, HostBrokerId: id, Read: m.cfg.Read, Write: m.cfg.Write,
		Locale: localeProto(m.host.opts.Locale),
	})
	if err != nil {
		return fmt.Errorf("plugin %q: configure: %w", name, callErr(err, m.host.opts.CallTimeout))
	}
	if r := cresp.GetRefusal(); r != nil {
		return fmt.Errorf("plugin %q refused its configuration: %w", name, refusalOf(name, r))
	}
	return nil
}

// command is the command that starts the plugin: the crm binary itself for
// a first-party plugin, the checked executable at path for a third-party one.
func (m *managed) command() (*exec.Cmd, *goplugin.SecureConfig, error) {
	name := m.cfg.Name
	if m.cfg.Path == "" {
		exe := m.host.opts.Executable
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return nil, nil, fmt.Errorf("plugin %q: find the crm binary to run it from: %w", name, err)
			}
		}
		return exec.Command(exe, m.host.opts.ServeArgs(name)...), nil, nil
	}
	// An absolute path, so that a bare name is never looked up in PATH.
	path, err := filepath.Abs(m.cfg.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %q: path %s: %w", name, m.cfg.Path, err)
	}
	if err := VerifyExecutable(m.cfg); err != nil {
		return nil, nil, err
	}
	// go-plugin checks again as it starts the process.
	want, _ := hex.DecodeString(strings.ToLower(m.cfg.SHA256))
	return exec.Command(path), &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()}, nil
}

// VerifyExecutable checks that a third-party plugin's executable exists
// and has the SHA-256 its plugin block gives; the error says what to do
// when it does not. It is nil for a first-party plugin.
func VerifyExecutable(c *config.Plugin) error {
	if c.Path == "" {
		return nil
	}
	if c.SHA256 == "" {
		return fmt.Errorf("plugin %q: %w: refused to run %s: the configuration gives no sha256 for it", c.Name, ErrChecksum, c.Path)
	}
	want, err := hex.DecodeString(strings.ToLower(c.SHA256))
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("plugin %q: %w: sha256 %q is not 64 hex digits", c.Name, ErrChecksum, c.SHA256)
	}
	got, err := fileSHA256(c.Path)
	if err != nil {
		return fmt.Errorf("plugin %q: %w", c.Name, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("plugin %q: %w: refused to run %s: its SHA-256 is %x but the configuration says %x; if the plugin was rebuilt or upgraded on purpose, set sha256 = %q in its plugin block",
			c.Name, ErrChecksum, c.Path, got, want, hex.EncodeToString(got))
	}
	return nil
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the plugin executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read the plugin executable %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// startError says in an admin's words why go-plugin could not start a
// plugin. go-plugin's errors are plain strings, so they are told apart by
// their text here, in this one place.
func (m *managed) startError(err error) error {
	name, msg := m.cfg.Name, err.Error()
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("plugin %q: %w: refused to run %s: the executable changed as it was started", name, ErrChecksum, m.cfg.Path)
	case strings.Contains(msg, "incompatible API version"):
		theirs := "another"
		if sm := pluginVersionRE.FindStringSubmatch(msg); sm != nil {
			theirs = sm[1]
		}
		return fmt.Errorf("plugin %q: %w: it speaks plugin protocol %s and this crm speaks %s; rebuild the plugin with an SDK for protocol %d, or upgrade crm",
			name, ErrProtocol, theirs, supportedVersions(), crmv1.ProtocolVersion)
	case strings.Contains(msg, "exited before we could connect"), strings.Contains(msg, "Failed to read any lines"):
		return fmt.Errorf("plugin %q: %w: the process ended before it was ready (a plugin's main must call sdk.Serve)", name, ErrExited)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("plugin %q: did not start within %s", name, m.host.opts.StartTimeout)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("plugin %q: it printed something other than the go-plugin handshake on stdout (a plugin must not print before sdk.Serve): %w", name, err)
	case strings.Contains(msg, "unsupported plugin protocol"):
		return fmt.Errorf("plugin %q: it does not speak gRPC (build it with the crm plugin SDK): %w", name, err)
	}
	return fmt.Errorf("plugin %q: start: %w", name, err)
}

// stop ends the process: gracefully through go-plugin first, then by
// killing its whole process group.
func (inst *instance) stop(log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		inst.client.Kill()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		log.Warn("plugin did not stop in time; killing its process group", slog.Int("pid", inst.pid))
		killGroup(inst.pid)
		<-done
	}
	killGroup(inst.pid) // whatever it started and left behind; 0 when attached
}

// rawStderr logs the lines of a plugin's stderr that are not go-plugin's
// JSON log lines (those go-plugin itself parses into the log).
type rawStderr struct{ w lineWriter }

func (r *rawStderr) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		if !isHCLogJSON(string(line)) {
			_, _ = r.w.Write(line)
		}
	}
	return len(p), nil
}

package plugins

// BarePing returns go-plugin's own gRPC health ping of a running plugin:
// the bare round trip that benchmarks measure the plugin calls against.
func BarePing(h *Host, name string) func() error {
	m, err := h.plugin(name)
	if err != nil {
		panic(err)
	}
	cp, err := m.current().client.Client()
	if err != nil {
		panic(err)
	}
	return cp.Ping
}

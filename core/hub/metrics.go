package hub

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus metrics; Collectors registers them with
// the API's registry.
type metrics struct {
	clients prometheus.GaugeFunc
	subs    prometheus.GaugeFunc
	lag     prometheus.GaugeFunc
	dropped *prometheus.CounterVec
	refused *prometheus.CounterVec
}

func newMetrics(h *Hub) *metrics {
	return &metrics{
		clients: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_ws_clients", Help: "Websocket clients connected.",
		}, func() float64 { return float64(h.Clients()) }),
		subs: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_ws_subscriptions", Help: "Live views open on the websockets.",
		}, func() float64 { return float64(h.subscriptions()) }),
		lag: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_ws_feed_lag", Help: "Committed writes the websocket hub has not delivered yet.",
		}, func() float64 { last := h.st.LastSeq(); return float64(last - min(h.Position(), last)) }),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_ws_dropped_total", Help: "Websocket clients the server dropped, by reason (slow, shutdown, other).",
		}, []string{"reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_ws_refused_total", Help: "Websocket connections refused at the handshake, by reason (too_many_connections: the user's cap).",
		}, []string{"reason"}),
	}
}

// Collectors are the hub's metrics, for a Prometheus registry.
func (h *Hub) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.metrics.clients, h.metrics.subs, h.metrics.lag, h.metrics.dropped, h.metrics.refused}
}

// subscriptions counts the live views.
func (h *Hub) subscriptions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.byKind {
		n += len(subs)
	}
	return n
}

// countDrop counts a client dropped for a reason other than its own close.
func (h *Hub) countDrop(reason error) {
	switch {
	case errors.Is(reason, ErrClosed):
	case errors.Is(reason, ErrSlow):
		h.metrics.dropped.WithLabelValues("slow").Inc()
	case errors.Is(reason, ErrShutdown):
		h.metrics.dropped.WithLabelValues("shutdown").Inc()
	default:
		h.metrics.dropped.WithLabelValues("other").Inc()
	}
}

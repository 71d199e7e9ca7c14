package rules

import "github.com/prometheus/client_golang/prometheus"

// engineMetrics are the engine's Prometheus metrics; Collectors registers
// them with the API's registry.
type engineMetrics struct {
	runs  *prometheus.CounterVec
	queue prometheus.GaugeFunc
	lag   prometheus.GaugeFunc
}

func newEngineMetrics(e *Engine) *engineMetrics {
	return &engineMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_rule_runs_total", Help: "Rule runs by outcome (ok, retrying, failed, skipped when `when` was false).",
		}, []string{"outcome"}),
		queue: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_rule_queue_depth", Help: "Rule runs waiting for a worker: back-pressure on the change-feed reader.",
		}, func() float64 { return float64(e.queued.Load()) }),
		lag: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_rule_feed_lag", Help: "Committed writes the rules engine has not processed yet.",
		}, func() float64 { return float64(e.st.LastSeq() - min(e.feed.Position(), e.st.LastSeq())) }),
	}
}

// Collectors are the engine's metrics, for a Prometheus registry.
func (e *Engine) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.metrics.runs, e.metrics.queue, e.metrics.lag}
}

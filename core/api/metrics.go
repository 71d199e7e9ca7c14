package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the Prometheus registry of one API server.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crm_http_requests_total", Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "crm_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"method", "route"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_store_size_bytes", Help: "On-disk size of the store.",
		}, func() float64 { return float64(st.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crm_changefeed_position", Help: "Position of the last committed write in the change feed.",
		}, func() float64 { return float64(st.LastSeq()) }),
		&recordCounts{st: st, desc: prometheus.NewDesc("crm_records", "Live records per entity.", []string{"entity"}, nil)},
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	m.handler.ServeHTTP(w, r)
}

// recordCounts reports the store's per-entity counts at scrape time.
type recordCounts struct {
	st   store.Store
	desc *prometheus.Desc
}

func (c *recordCounts) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *recordCounts) Collect(ch chan<- prometheus.Metric) {
	for entity, n := range c.st.Counts() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), entity)
	}
}

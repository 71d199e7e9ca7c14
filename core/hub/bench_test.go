package hub_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/testkit"
)

// fanoutClients is how many websocket clients each change goes to, of
// fanoutUsers users (a user may open at most hub.DefaultMaxPerUser).
const (
	fanoutClients = 1000
	fanoutUsers   = 50
)

// BenchmarkFanout delivers one change to 1,000 websocket clients, each
// subscribed to the entity over a real loopback connection, and reports
// the p50 and p99 of the delivery latency (from just before the write to
// each client's receipt of the change), beside the same figures for a bare
// gorilla/websocket broadcast of the same bytes to 1,000 clients (a writer
// goroutine and a buffered channel per connection, as gorilla's chat
// example does), measured in the same run, and their ratio. write_ms is
// the write alone (its group commit and fsync), which the bare broadcast
// does not do.
func BenchmarkFanout(b *testing.B) {
	s := testkit.Start(b, map[string]string{"crm.hcl": testConfig})
	recs := records.New(s.App.Store, s.App.Schema)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/ws"
	headers := make([]http.Header, fanoutUsers)
	for i := range headers {
		_, token := s.AddUser(b, fmt.Sprintf("viewer%d@example.com", i), "viewer")
		headers[i] = http.Header{"Authorization": {"Bearer " + token}}
	}
	h := func(i int) http.Header { return headers[i%fanoutUsers] }
	got := make(chan time.Time, fanoutClients)
	var sample []byte
	var sampleOnce sync.Once
	conns := dialAll(b, url, h, func(c *websocket.Conn) error {
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","sub":"live","entity":"contact"}`)); err != nil {
			return err
		}
		for { // hello, then the snapshot
			_, msg, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if strings.Contains(string(msg), `"type":"snapshot"`) {
				return nil
			}
		}
	})
	for _, c := range conns {
		go receive(c, got, func(msg []byte) { sampleOnce.Do(func() { sample = slices.Clone(msg) }) })
	}

	var lat, writes []time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		_, err := recs.Create(ctx, records.SystemActor(), records.CreateRequest{Entity: "contact",
			Values: records.Values{Set: map[string]any{"name": fmt.Sprint("contact ", i)}}})
		if err != nil {
			b.Fatal(err)
		}
		writes = append(writes, time.Since(start))
		lat = append(lat, collect(b, got, start)...)
	}
	b.StopTimer()

	bare := bareBroadcast(b, sample, max(b.N, 20))
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	b50, b99 := percentile(bare, 50), percentile(bare, 99)
	b.ReportMetric(ms(p50), "p50_ms")
	b.ReportMetric(ms(p99), "p99_ms")
	b.ReportMetric(ms(b50), "bare_p50_ms")
	b.ReportMetric(ms(b99), "bare_p99_ms")
	b.ReportMetric(ms(p50)/ms(b50), "p50_ratio")
	b.ReportMetric(ms(p99)/ms(b99), "p99_ratio")
	b.ReportMetric(ms(percentile(writes, 50)), "write_ms")
	b.ReportMetric(float64(len(sample)), "msg_bytes")
}

// bareBroadcast sends msg to 1,000 clients of a plain gorilla/websocket
// server, rounds times, and returns every delivery latency.
func bareBroadcast(b *testing.B, msg []byte, rounds int) []time.Duration {
	var mu sync.Mutex
	var queues []chan []byte
	ready := make(chan struct{}, fanoutClients)
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		q := make(chan []byte, 256)
		mu.Lock()
		queues = append(queues, q)
		mu.Unlock()
		ready <- struct{}{}
		go func() { // the reader: only to see the close
			for {
				if _, _, err := c.NextReader(); err != nil {
					c.Close()
					return
				}
			}
		}()
		for m := range q {
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if c.WriteMessage(websocket.TextMessage, m) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	got := make(chan time.Time, fanoutClients)
	conns := dialAll(b, "ws"+strings.TrimPrefix(srv.URL, "http"), func(int) http.Header { return nil }, func(*websocket.Conn) error { return nil })
	for range fanoutClients {
		<-ready
	}
	for _, c := range conns {
		go receive(c, got, nil)
	}
	var lat []time.Duration
	for range rounds {
		start := time.Now()
		mu.Lock()
		for _, q := range queues {
			select {
			case q <- msg:
			default: // a slow client would be dropped; none is here
			}
		}
		mu.Unlock()
		lat = append(lat, collect(b, got, start)...)
	}
	mu.Lock()
	for _, q := range queues {
		close(q)
	}
	mu.Unlock()
	return lat
}

// dialAll opens fanoutClients connections, 50 at a time, the i-th with
// the headers h(i), and runs setup on each; they are closed when the
// benchmark ends.
func dialAll(b *testing.B, url string, h func(i int) http.Header, setup func(*websocket.Conn) error) []*websocket.Conn {
	conns := make([]*websocket.Conn, fanoutClients)
	errs := make(chan error, fanoutClients)
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d := websocket.Dialer{HandshakeTimeout: time.Minute}
			c, _, err := d.Dial(url, h(i))
			if err == nil {
				err = setup(c)
			}
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("dial: %v", err)
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// receive reports the time each change message arrives on c.
func receive(c *websocket.Conn, got chan<- time.Time, each func([]byte)) {
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if strings.Contains(string(msg[:min(len(msg), 40)]), `"type":"error"`) {
			panic("error message in the benchmark: " + string(msg))
		}
		now := time.Now()
		if each != nil {
			each(msg)
		}
		got <- now
	}
}

// collect waits for one arrival per client and returns their latencies
// from start.
func collect(b *testing.B, got <-chan time.Time, start time.Time) []time.Duration {
	out := make([]time.Duration, 0, fanoutClients)
	timeout := time.After(time.Minute)
	for range fanoutClients {
		select {
		case at := <-got:
			out = append(out, at.Sub(start))
		case <-timeout:
			b.Fatalf("only %d of %d clients got the change within a minute", len(out), fanoutClients)
		}
	}
	return out
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

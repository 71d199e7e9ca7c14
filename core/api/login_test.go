package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// clientFrom is an HTTP client whose connections come from a loopback
// address of its own, so the server sees another remote address.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func loginFrom(t *testing.T, c *http.Client, url, email, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := c.Post(url+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestHammeredAccountStillLetsItsOwnerIn: over a real server, an attacker
// fails to log in as the admin from one address until limited; the admin,
// from another address, logs in with the right password; the attacker
// stays limited, even with the right password.
func TestHammeredAccountStillLetsItsOwnerIn(t *testing.T) {
	s := start(t)
	attacker, owner := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	if _, err := attacker.Get(s.URL + "/healthz"); err != nil {
		t.Skipf("cannot connect from 127.0.0.2 here: %v", err)
	}
	statuses := map[int]int{}
	for range 15 {
		statuses[loginFrom(t, attacker, s.URL, testkit.AdminEmail, "guess")]++
	}
	if statuses[401] == 0 || statuses[429] == 0 || statuses[401]+statuses[429] != 15 {
		t.Fatalf("the attacker's 15 attempts: %v, want some 401 then 429", statuses)
	}
	if got := loginFrom(t, owner, s.URL, testkit.AdminEmail, testkit.AdminPassword); got != 200 {
		t.Fatalf("the owner from another address: %d, want 200", got)
	}
	if got := loginFrom(t, attacker, s.URL, testkit.AdminEmail, testkit.AdminPassword); got != 429 {
		t.Fatalf("the attacker with the right password: %d, want 429", got)
	}
}

package accounting

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// divRound is a / b rounded half away from zero, in int64 (b > 0).
func divRound(a, b int64) int64 {
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	if 2*r >= b {
		if a < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// pow is 10^n.
func pow(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// scaled is a decimal as mantissa and scale: "1.25" is {125, 2}.
type scaled struct {
	m int64
	s int
}

func (d scaled) String() string {
	if d.s == 0 {
		return strconv.FormatInt(d.m, 10)
	}
	return formatMinor(d.m, d.s)
}

// referenceLine computes a line with int64 arithmetic only, as the rule
// says: net = round(q × p × (100 − d) / 100), vat = round(net × v / 100).
func referenceLine(q scaled, price int64, d, v scaled) (net, vat int64) {
	// q.m/10^q.s × price × (100×10^d.s − d.m)/10^d.s / 100
	num := q.m * price * (100*pow(d.s) - d.m)
	den := pow(q.s) * pow(d.s) * 100
	net = divRound(num, den)
	vat = divRound(net*v.m, pow(v.s)*100)
	return net, vat
}

func randScaled(r *rand.Rand, maxMantissa int64, maxScale int) scaled {
	return scaled{m: r.Int64N(maxMantissa), s: r.IntN(maxScale + 1)}
}

// TestTotalsProperty: for random invoices, every line computed with
// big rationals equals the int64 reference of the rounding rule, and the
// invoice's totals are exactly the sums of its lines.
func TestTotalsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2026))
	for inv := range 2000 {
		var lines []Line
		var net, vat int64
		for range 1 + r.IntN(8) {
			q := randScaled(r, 10000, 3)
			if q.m == 0 {
				q.m = 1
			}
			price := r.Int64N(10_000_000)
			d := scaled{m: r.Int64N(1001), s: 1} // 0.0 .. 100.0 %
			v := []scaled{{20, 0}, {21, 0}, {18, 0}, {10, 0}, {0, 0}, {55, 1}}[r.IntN(6)]
			l, err := ComputeLine(LineInput{Quantity: q.String(), UnitPrice: price, Discount: d.String(), VATRate: v.String()})
			if err != nil {
				t.Fatalf("invoice %d: %v", inv, err)
			}
			wn, wv := referenceLine(q, price, d, v)
			if l.Net != wn || l.VAT != wv || l.Gross != wn+wv {
				t.Fatalf("invoice %d: %s × %d at -%s%% +%s%%: got %d+%d=%d, want %d+%d", inv, q, price, d, v, l.Net, l.VAT, l.Gross, wn, wv)
			}
			lines = append(lines, l)
			net, vat = net+wn, vat+wv
		}
		if tot := Sum(lines); tot.Net != net || tot.VAT != vat || tot.Gross != net+vat {
			t.Fatalf("invoice %d: totals %+v, want %d %d %d", inv, tot, net, vat, net+vat)
		}
	}
}

// TestRoundingHalfAwayFromZero pins the rule on the halves.
func TestRoundingHalfAwayFromZero(t *testing.T) {
	for _, c := range []struct {
		q     string
		price int64
		net   int64
	}{
		{"1.5", 333333, 500000}, // 499 999.5 -> 500 000
		{"0.5", 1, 1},           // 0.5 -> 1
		{"0.5", 3, 2},           // 1.5 -> 2
		{"0.25", 2, 1},          // 0.5 -> 1
		{"0.249", 2, 0},         // 0.498 -> 0
		{"3", 0, 0},             // free
		{"1000000", 999999, 999999000000},
	} {
		l, err := ComputeLine(LineInput{Quantity: c.q, UnitPrice: c.price, VATRate: "0"})
		if err != nil || l.Net != c.net {
			t.Errorf("%s × %d: %d, %v; want %d", c.q, c.price, l.Net, err, c.net)
		}
	}
	if n, _ := convert(-50, 0, 0, mustRat("0.1")); n != -5 {
		t.Errorf("-50 at 0.1: %d", n)
	}
	if n, _ := convert(-5, 0, 0, mustRat("0.1")); n != -1 {
		t.Errorf("-5 at 0.1 (-0.5): %d, want -1", n)
	}
}

func mustRat(s string) *big.Rat {
	r, err := parseDecimal(s)
	if err != nil {
		panic(err)
	}
	return r
}

// TestMinorUnits: IRR invoices are whole rials, AMD, AZN, EUR and RUB
// have two digits; amounts with more decimals than that are refused.
func TestMinorUnits(t *testing.T) {
	for _, c := range []struct {
		amount, cur string
		minor       int64
		err         bool
	}{
		{"1500.50", "AMD", 150050, false},
		{"1500", "IRR", 1500, false},
		{"1500.00", "IRR", 1500, false},
		{"1500.5", "IRR", 0, true},
		{"2.345", "EUR", 0, true},
		{"10.1", "azn", 1010, false},
		{"7", "RUB", 700, false},
		{"1", "XYZ", 0, true},
	} {
		m, err := moneyOf(map[string]any{"amount": c.amount, "currency": c.cur})
		if (err != nil) != c.err || (!c.err && m.Minor != c.minor) {
			t.Errorf("%s %s: %+v, %v", c.amount, c.cur, m, err)
		}
	}
	if got := fmt.Sprint(Money{-5, "EUR"}.JSON()["amount"]); got != "-0.05" {
		t.Errorf("-5 cents: %s", got)
	}
}

package store

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// containsScripts are the alphabets of the random text of the tests of
// planning `contains` on the search index: every script and variant
// textnorm folds, digits of several sets, combining marks, joiners,
// ligatures and letters that fold to two, and separators.
var containsScripts = [][]rune{
	[]rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
	[]rune("ąčęėįšųūžĄČĘĖĮŠŲŪŽ"), // Lithuanian
	[]rune("əğıöşüçƏĞİÖŞÜÇ"),     // Azerbaijani
	[]rune("ԱԲԳԴԵԶԷԸԹԺԻԼԽԾԿՀՁՂՃՄՅՆՇՈՉՊՋՌՍՎՏՐՑՒՓՔՕՖաբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆև"), // Armenian
	[]rune("абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЕЁЖЯ"),                                      // Russian
	[]rune("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيىكةۀأإآؤئءەہ"),                                 // Persian and Arabic variants
	[]rune("\u200c\u200d\u0640\u064e\u064f\u0650\u0651\u0652\u0654"),                        // ZWNJ, ZWJ, tatweel, harakat, hamza above
	[]rune("0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३"),                                            // digits of several sets
	[]rune("\u0301\u0300\u0307\u0323\u030c\u0328"),                                          // combining marks
	[]rune("ﬁﬂßæœøłđħþÆŒØŁĐĦÞﬀǅ①ｶＡ"),                                                        // ligatures, letters folded by hand, compatibility forms
	[]rune(" -.,@'’_/()+\t"), // separators and apostrophes
}

// randomText is a random string of the runes of containsScripts, mostly
// from one or two scripts as names are, at times a long run of letters
// (past textnorm.MaxTokenRunes) or many short words (past maxSearchTokens).
func randomText(rng *rand.Rand) string {
	var b strings.Builder
	a, c := containsScripts[rng.IntN(len(containsScripts))], containsScripts[rng.IntN(len(containsScripts))]
	n := rng.IntN(24)
	switch rng.IntN(12) {
	case 0:
		n = 60 + rng.IntN(20) // a token that may be cut
	case 1:
		for range 260 + rng.IntN(10) { // more words than are indexed
			b.WriteString("w")
			b.WriteRune(a[rng.IntN(len(a))])
			b.WriteByte(' ')
		}
	}
	for range n {
		switch k := rng.IntN(10); {
		case k < 6:
			b.WriteRune(a[rng.IntN(len(a))])
		case k < 8:
			b.WriteRune(c[rng.IntN(len(c))])
		default:
			s := containsScripts[rng.IntN(len(containsScripts))]
			b.WriteRune(s[rng.IntN(len(s))])
		}
	}
	return b.String()
}

// TestSearchGramsHoldEveryContains checks what planning `contains` and
// `startsWith` on the search index rests on (plan.go, searchUnion): for
// random text v of every script and every s that v contains (or starts
// with), cut at rune and at byte boundaries, that searchNeedle accepts, v's
// grams have one that starts with the needle's gram, or v is indexed under
// partialGram.
func TestSearchGramsHoldEveryContains(t *testing.T) {
	sch, err := schema.New(mustConfig(t, `
entity "person" {
  field "name" {
    type   = "string"
    search = true
  }
  field "bio" {
    type   = "text"
    search = true
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	ent := sch.Entity("person")
	rng := rand.New(rand.NewPCG(7, 15))
	checked, partial := 0, 0
	for range 4000 {
		v := randomText(rng)
		rec := &Record{ID: "x", Entity: "person", Values: map[string]any{"name": v}}
		if rng.IntN(3) == 0 {
			rec.Values["bio"] = randomText(rng)
		}
		grams := searchGrams(ent, rec)
		_, isPartial := grams[partialGram]
		if isPartial {
			partial++
		}
		has := func(g string) bool {
			if isPartial {
				return true
			}
			for k := range grams {
				if strings.HasPrefix(k, g) {
					return true
				}
			}
			return false
		}
		runes := []rune(v)
		for range 30 {
			var s string
			if rng.IntN(3) == 0 && len(v) > 0 { // any byte range
				i := rng.IntN(len(v))
				s = v[i : i+rng.IntN(len(v)-i+1)]
			} else if len(runes) > 0 {
				i := rng.IntN(len(runes))
				s = string(runes[i : i+rng.IntN(min(len(runes)-i, 20)+1)])
			}
			if g, ok := searchNeedle(s, false); ok && strings.Contains(v, s) {
				checked++
				if !has(g) {
					t.Fatalf("%q contains %q (gram %q), but has no gram that starts with it: %v", v, s, g, grams)
				}
			}
			if g, ok := searchNeedle(s, true); ok && strings.HasPrefix(v, s) {
				checked++
				if !has(g) {
					t.Fatalf("%q starts with %q (gram %q), but has no gram that starts with it", v, s, g)
				}
			}
			if p := string(runes[:rng.IntN(len(runes)+1)]); strings.HasPrefix(v, p) {
				if g, ok := searchNeedle(p, true); ok {
					checked++
					if !has(g) {
						t.Fatalf("%q starts with %q (gram %q), but has no gram that starts with it", v, p, g)
					}
				}
			}
		}
	}
	if checked < 20000 || partial < 100 {
		t.Fatalf("only %d needles checked, %d records indexed in part", checked, partial)
	}
	t.Logf("%d needles checked; %d of 4000 records indexed in part", checked, partial)
}

func mustConfig(t *testing.T, hcl string) *config.Config {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(hcl)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

// RandomSearchText and SearchNeedle serve the tests of package store_test.
var (
	RandomSearchText = randomText
	SearchNeedle     = searchNeedle
)

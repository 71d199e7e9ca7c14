package accounting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Bank line statuses.
const (
	BankMatched   = "matched"
	BankUnmatched = "unmatched"
)

// maxStatement bounds the bank statement a call reads.
const maxStatement = 8 << 20

// numberRe finds invoice numbers in a payment's reference: INV-2026-0007.
var numberRe = regexp.MustCompile(`(?i)\b[a-z][a-z0-9]*-[0-9]{4}-[0-9]+\b`)

// bankLine is one line of a bank statement.
type bankLine struct {
	Line      int
	Day       time.Time
	Paid      Money
	Rate      string
	Reference string
	Payer     string
}

// key identifies a statement line across imports, so that importing the
// same statement again records nothing twice.
func (l bankLine) key() string {
	h := sha256.Sum256([]byte(strings.Join([]string{l.Day.Format(time.DateOnly), l.Paid.String(), l.Rate, l.Reference, l.Payer}, "\x00")))
	return "bank:" + hex.EncodeToString(h[:12])
}

// importStatement reads a bank statement CSV (a file the user uploaded)
// and records each receipt as a payment of the invoice it names (its
// reference holds the invoice's number) or, naming none, of the one open
// invoice whose balance is exactly its amount. Every line is kept as a
// bank_line record; those it could not match are listed in the answer for
// a person to resolve with match_bank_line. A line imported before is
// skipped.
func (p *Plugin) importStatement(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		File string `json:"file"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "import_bank_statement: "+err.Error())
	}
	host := sdk.HostFrom(ctx)
	info, rc, err := host.ReadFile(ctx, a.File)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxStatement+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read the statement: %w", err)
	}
	if len(data) > maxStatement {
		return nil, sdk.RefuseField("file", sdk.CodeInvalidArgs, fmt.Sprintf("the statement is larger than %d MiB: split it", maxStatement>>20))
	}
	lines, err := parseStatement(data, p.settings().currency)
	if err != nil {
		return nil, err
	}
	open := map[string]sdk.Record{} // by upper-case number
	if err := openInvoices(ctx, "", func(inv sdk.Record) error {
		open[strings.ToUpper(inv.String("number"))] = inv
		return nil
	}); err != nil {
		return nil, err
	}
	matched, skipped := 0, 0
	unmatched := []map[string]any{}
	for _, l := range lines {
		if prev, err := firstWhere(ctx, BankLineEntity, sdk.Eq("key", l.key())); err != nil {
			return nil, err
		} else if prev != nil {
			skipped++
			continue
		}
		values := map[string]any{
			"statement": info.Name, "line": l.Line, "paid_on": l.Day.Format(time.DateOnly), "amount": l.Paid.JSON(),
			"rate": orNil(l.Rate), "reference": orNil(l.Reference), "payer": orNil(l.Payer), "key": l.key(),
		}
		inv, reason := matchLine(l, open)
		if inv != nil {
			out, err := recordPayment(ctx, inv.ID(), payment{Paid: l.Paid, Rate: l.Rate, Day: l.Day, Reference: l.Reference, Key: l.key()})
			var r *sdk.Refusal
			switch {
			case errors.As(err, &r):
				reason = fmt.Sprintf("names invoice %s, but: %s", inv.String("number"), r.Message)
			case err != nil:
				return nil, err
			default:
				paidInv, _ := out["invoice"].(sdk.Record)
				open[strings.ToUpper(paidInv.String("number"))] = paidInv
				pm, _ := out["payment"].(sdk.Record)
				values["invoice"], values["payment"], values["status"] = inv.ID(), pm.ID(), BankMatched
				matched++
			}
		}
		if values["status"] == nil {
			values["status"], values["reason"] = BankUnmatched, reason
		}
		rec, err := host.Create(ctx, BankLineEntity, values, sdk.IdempotencyKey(l.key()+":line"))
		if err != nil {
			return nil, err
		}
		if values["status"] == BankUnmatched {
			unmatched = append(unmatched, map[string]any{"id": rec.ID(), "line": l.Line, "date": l.Day.Format(time.DateOnly),
				"amount": l.Paid.JSON(), "reference": l.Reference, "payer": l.Payer, "reason": reason})
		}
	}
	return map[string]any{"statement": info.Name, "lines": len(lines), "matched": matched, "skipped": skipped, "unmatched": unmatched}, nil
}

// matchLine is the open invoice a line pays: the one whose number its
// reference names, or else the only one in its currency whose balance is
// exactly its amount; or nil and why not.
func matchLine(l bankLine, open map[string]sdk.Record) (sdk.Record, string) {
	named := numberRe.FindAllString(l.Reference, -1)
	for _, n := range named {
		if inv, ok := open[strings.ToUpper(n)]; ok {
			if b, err := moneyOf(inv["balance"]); err == nil && b.Minor == 0 {
				return nil, fmt.Sprintf("invoice %s is paid already", inv.String("number"))
			}
			return inv, ""
		}
	}
	if len(named) > 0 {
		return nil, fmt.Sprintf("no open invoice numbered %s", strings.Join(named, ", "))
	}
	var found []sdk.Record
	for _, inv := range open {
		if b, err := moneyOf(inv["balance"]); err == nil && b == l.Paid {
			found = append(found, inv)
		}
	}
	switch len(found) {
	case 1:
		return found[0], ""
	case 0:
		return nil, fmt.Sprintf("the reference names no invoice and no open invoice has a balance of %s", l.Paid)
	}
	return nil, fmt.Sprintf("the reference names no invoice and %d open invoices have a balance of %s", len(found), l.Paid)
}

// statementColumns are the columns a statement's header may name; date,
// amount and reference are required.
var statementColumns = []string{"date", "amount", "currency", "reference", "payer", "rate"}

// parseStatement reads a bank statement CSV: a header row naming the
// columns (any order, any case; comma or semicolon separated), then one
// receipt a line. Outgoing payments (a negative amount) are left out. A
// line that cannot be read is refused with its number.
func parseStatement(data []byte, defCurrency string) ([]bankLine, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as spreadsheets write one
	first, _, _ := bytes.Cut(data, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, sdk.RefuseField("file", sdk.CodeInvalidArgs, "the statement is not CSV: "+err.Error())
	}
	if len(rows) == 0 {
		return nil, sdk.RefuseField("file", sdk.CodeInvalidArgs, "the statement is empty: want a header row ("+strings.Join(statementColumns, ", ")+") and one line per receipt")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"date", "amount", "reference"} {
		if _, ok := col[need]; !ok {
			return nil, sdk.RefuseField("file", sdk.CodeInvalidArgs, fmt.Sprintf("the statement's header has no %q column; it has %q, and needs date, amount and reference (currency, payer and rate are optional)", need, rows[0]))
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	var out []bankLine
	for i, row := range rows[1:] {
		n := i + 2 // the line in the file, the header being 1
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		bad := func(format string, args ...any) error {
			return sdk.RefuseField("file", sdk.CodeInvalidArgs, fmt.Sprintf("statement line %d: ", n)+fmt.Sprintf(format, args...))
		}
		day, err := parseDay(get(row, "date"))
		if err != nil {
			return nil, bad("date %q: want 2026-03-21 or 21.03.2026", get(row, "date"))
		}
		cur := get(row, "currency")
		if cur == "" {
			cur = defCurrency
		}
		amount := strings.ReplaceAll(get(row, "amount"), " ", "")
		m, err := moneyOf(map[string]any{"amount": amount, "currency": cur})
		if err != nil {
			return nil, bad("amount: %v", err)
		}
		if m.Minor <= 0 {
			continue // an outgoing payment or a zero line: not a receipt
		}
		rate := get(row, "rate")
		if rate != "" {
			if _, err := parseDecimal(rate); err != nil {
				return nil, bad("rate: %v", err)
			}
		}
		out = append(out, bankLine{Line: n, Day: day, Paid: m, Rate: rate, Reference: get(row, "reference"), Payer: get(row, "payer")})
	}
	return out, nil
}

// parseDay reads 2026-03-21 or 21.03.2026.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse("02.01.2006", s)
}

// matchBankLine resolves an unmatched bank line by hand: the line is
// recorded as a payment of the invoice the person names.
func (p *Plugin) matchBankLine(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		Invoice string `json:"invoice"`
		Rate    any    `json:"rate"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "match_bank_line: "+err.Error())
	}
	if call.Record == nil || call.Record.Entity != BankLineEntity {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "match_bank_line works on a bank_line")
	}
	host := sdk.HostFrom(ctx)
	line, err := host.Get(ctx, BankLineEntity, call.Record.ID)
	if err != nil {
		return nil, err
	}
	if line.String("status") == BankMatched {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "this bank line is matched already")
	}
	paid, err := moneyOf(line["amount"])
	if err != nil {
		return nil, fmt.Errorf("bank line %s: amount: %w", line.ID(), err)
	}
	day, err := time.Parse(time.DateOnly, line.String("paid_on"))
	if err != nil {
		return nil, fmt.Errorf("bank line %s: date: %w", line.ID(), err)
	}
	rate := decimalString(a.Rate)
	if rate == "" {
		rate = decimalString(line["rate"])
	}
	out, err := recordPayment(ctx, a.Invoice, payment{Paid: paid, Rate: rate, Day: day, Reference: line.String("reference"), Key: line.String("key")})
	if err != nil {
		return nil, err
	}
	pm, _ := out["payment"].(sdk.Record)
	updated, err := host.Update(ctx, BankLineEntity, line.ID(), map[string]any{
		"status": BankMatched, "invoice": a.Invoice, "payment": pm.ID(), "reason": nil, "rate": orNil(rate),
	})
	if err != nil {
		return nil, err
	}
	out["bank_line"] = updated
	return out, nil
}

// Package accounting is the first-party plugin that invoices and collects:
// invoices issued from won deals, numbered per series and year without
// gaps, with lines whose totals are exact integer minor units; payments,
// also in another currency at a rate recorded with them, allocated to the
// invoices they pay; a customer's balance and its ageing; and the daily
// invoice.overdue event for rules.
//
// It is written against the SDK alone, as a partner's plugin is. Issued
// invoices, their lines, payments and allocations are locked
// (sdk.Entity.Locked): the CRM refuses anyone's change to them but this
// plugin's, which makes them only through its actions (record_payment,
// cancel_invoice). The rounding rule is in money.go.
package accounting

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// Names the plugin declares and admins write in rules and HCL.
const (
	InvoiceEntity    = "invoice"
	LineEntity       = "invoice_line"
	PaymentEntity    = "payment"
	AllocationEntity = "payment_allocation"
	ProductEntity    = "product"
	SeriesEntity     = "invoice_series"
	ExportEntity     = "accounting_export"
	BankLineEntity   = "bank_line"

	ActionIssue        = "issue_invoice"
	ActionAddLine      = "add_invoice_line"
	ActionPay          = "record_payment"
	ActionCancel       = "cancel_invoice"
	ActionCredit       = "credit_invoice"
	ActionBalance      = "balance"
	ActionCheckOverdue = "check_overdue"
	ActionExport       = "export"
	ActionImportBank   = "import_bank_statement"
	ActionMatchBank    = "match_bank_line"
	ActionRevenue      = "revenue"
	ActionReceivables  = "receivables"

	EventOverdue = "invoice.overdue"
	EventIssued  = "invoice.issued"
)

// Invoice statuses.
const (
	StatusDraft      = "draft"
	StatusIssued     = "issued"
	StatusPartlyPaid = "partly_paid"
	StatusPaid       = "paid"
	StatusOverdue    = "overdue"
	StatusCancelled  = "cancelled"
	// StatusCredited: an invoice whose balance credit notes brought to 0
	// (with nothing paid).
	StatusCredited = "credited"
	// StatusCreditNote: a credit note (credit_of names its invoice).
	StatusCreditNote = "credit_note"
	// StatusPending: a credit note written but not yet applied to its
	// invoice (see credit.go); completed at start and by the ticker.
	StatusPending = "pending"
	// StatusRefused: a credit note that no longer fit its invoice's
	// balance when it was applied. It keeps its number (the series stays
	// gapless) with amounts of 0, and credits nothing.
	StatusRefused = "refused"
)

// Payment methods.
var methods = []string{"bank_transfer", "cash", "card", "other"}

// Refusal codes.
const (
	// CodeNotWon: issue_invoice on a deal that is not won.
	CodeNotWon = "deal_not_won"
	// CodeInvoiced: the deal has an invoice already (not cancelled or
	// credited in full).
	CodeInvoiced = "already_invoiced"
	// CodeOverpayment: a payment larger than the invoice's balance.
	CodeOverpayment = "overpayment"
	// CodeNotPayable: a payment on an invoice that is not open.
	CodeNotPayable = "not_payable"
	// CodeHasPayments: cancelling an invoice that has payments.
	CodeHasPayments = "has_payments"
	// CodeOvercredit: a credit note larger than the invoice's balance.
	CodeOvercredit = "overcredit"
	// CodeNotCreditable: a credit of an invoice that is not open, or of a
	// credit note.
	CodeNotCreditable = "not_creditable"
	// CodeBadLine: an invoice line's quantity, price, discount or rate.
	CodeBadLine = "invalid_line"
	// CodeCurrency: an unknown currency, or amounts in two currencies
	// where one is needed.
	CodeCurrency = "invalid_currency"
)

// Settings are the plugin's HCL `config`.
type Settings struct {
	// VATPercent is the VAT rate of lines whose product names none:
	// Armenia 20, Lithuania 21, Azerbaijan 18, Iran 10. Required.
	VATPercent *float64 `json:"vat_percent"`
	// Series is the invoice numbering series: INV gives INV-2026-0001.
	Series string `json:"series"`
	// CreditSeries is the numbering series of credit notes: CN gives
	// CN-2026-0001.
	CreditSeries string `json:"credit_series"`
	// DueDays is the payment term: the due date is the issue date plus
	// this many days, unless issue_invoice gives one; 14 when unset.
	DueDays *int `json:"due_days"`
	// WonStage is the deal stage issue_invoice requires; "won" when unset.
	WonStage string `json:"won_stage"`
	// CheckEvery is how often the plugin looks for overdue invoices
	// (a Go duration, "1h" when unset; "0" stops the ticker, leaving
	// check_overdue to a rule or an admin).
	CheckEvery string `json:"check_every"`
	// NoInvoiceTemplate, when true, keeps the plugin from bringing its
	// "invoice" document template (see document.go).
	NoInvoiceTemplate bool `json:"no_invoice_template"`
}

// settings are Settings checked and completed.
type settings struct {
	vat          string // decimal percent
	series       string
	creditSeries string
	dueDays      int
	wonStage     string
	checkEvery   time.Duration
	loc          *time.Location
	currency     string // the instance's, of statement lines that name none
}

// Plugin is the accounting plugin.
type Plugin struct {
	sdk.Base

	mu  sync.RWMutex
	cfg settings
	// stopTicker stops the overdue ticker of the last Configure.
	stopTicker context.CancelFunc
	// reconciled is set once the first Configure settled the payments a
	// previous process left pending (settle.go).
	reconciled bool
}

// pendingGrace is how long a payment stays pending before the ticker
// settles it: longer than any call lasts, so that a payment a call is
// still settling is left to that call.
const pendingGrace = 2 * time.Minute

// New returns the plugin, for the first-party registry.
func New() sdk.Plugin { return &Plugin{} }

// numbers allocates invoice numbers, per series and year, without gaps.
var numbers = series.Allocator{Entity: SeriesEntity, Exists: numberExists}

// lineItems are the fields of an invoice line as an action asks for them:
// add_invoice_line's arguments, the items of issue_invoice's lines.
func lineItems() []sdk.Arg {
	return []sdk.Arg{
		{Name: "product", Label: "Product", Type: sdk.TypeRef, To: ProductEntity, Description: "Gives the line its name, price and VAT rate unless the line gives its own."},
		{Name: "description", Label: "Description", Type: sdk.TypeString},
		{Name: "quantity", Label: "Quantity", Type: sdk.TypeDecimal, Required: true},
		{Name: "unit_price", Label: "Unit price", Type: sdk.TypeMoney, Description: "Net, in the invoice's currency."},
		{Name: "discount", Label: "Discount %", Type: sdk.TypeDecimal},
		{Name: "vat_rate", Label: "VAT %", Type: sdk.TypeDecimal, Description: "config vat_percent when unset."},
	}
}

func money(name, label string) sdk.Field {
	return sdk.Field{Name: name, Label: label, Type: sdk.TypeMoney}
}

// manifest declares the plugin's entities, actions, event and buttons,
// labelled in English (labels.go adds the other languages).
func manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:          "accounting",
		Version:       "1.0.0",
		Description:   "Invoices from won deals, payments in any currency, balances and ageing, the daily invoice.overdue event.",
		Subscriptions: lineEvents,
		Actions: []sdk.Action{{
			Name: ActionIssue, Entities: []string{"deal", InvoiceEntity},
			Description: "Issue an invoice for a won deal (one line of the deal's amount, or the lines given), or issue a draft invoice with its lines.",
			Args: []sdk.Arg{
				{Name: "issue_date", Label: "Issue date", Type: sdk.TypeDate, Description: "The invoice's date; today when unset."},
				{Name: "due_date", Label: "Due date", Type: sdk.TypeDate, Description: "When it is to be paid; the issue date plus config due_days when unset."},
				{Name: "series", Label: "Series", Type: sdk.TypeString, Description: "The numbering series; config series when unset."},
				{Name: "lines", Label: "Lines", Type: sdk.TypeObject, Items: lineItems(), Description: `Of a deal's invoice: {"items": [{"product"?, "description"?, "quantity", "unit_price"? (money), "discount"? (%), "vat_rate"? (%)}]}; one line of the deal's amount when unset.`},
			},
		}, {
			Name: ActionAddLine, Entities: []string{InvoiceEntity},
			Description: "Add a line to a draft invoice: a product gives its name, price and VAT rate unless the line gives its own; the totals follow.",
			Args:        lineItems(),
		}, {
			Name: ActionPay, Entities: []string{InvoiceEntity, "company", "contact"},
			Description: "Record a payment of the invoice, in its currency or another one at a rate; on a company or contact, one payment allocated to several of its invoices.",
			Args: []sdk.Arg{
				{Name: "amount", Label: "Amount paid", Type: sdk.TypeMoney, Required: true, Description: "What was paid, in the currency it was paid in."},
				{Name: "date", Label: "Date paid", Type: sdk.TypeDate, Description: "When; today when unset."},
				{Name: "method", Label: "Method", Type: sdk.TypeEnum, Values: methods, Description: "How; bank_transfer when unset."},
				{Name: "rate", Label: "Exchange rate", Type: sdk.TypeDecimal, Description: "Units of the invoice's currency per unit of the payment's, for a payment in another currency."},
				{Name: "reference", Label: "Reference", Type: sdk.TypeString, Description: "The bank's or the till's reference."},
				{Name: "allocations", Label: "Invoices paid", Type: sdk.TypeObject, Description: "On a company or contact: each invoice the payment pays and the part of it that pays the invoice, in the payment's currency; the parts add up to the amount exactly.",
					Items: []sdk.Arg{
						{Name: "invoice", Label: "Invoice", Type: sdk.TypeRef, To: InvoiceEntity, Required: true},
						{Name: "amount", Label: "Part of the payment", Type: sdk.TypeMoney, Required: true},
					}},
			},
		}, {
			Name: ActionCancel, Entities: []string{InvoiceEntity},
			Description: "Cancel an invoice that has no payments and no credit notes (credit one that has).",
			Args:        []sdk.Arg{{Name: "reason", Type: sdk.TypeText}},
		}, {
			Name: ActionCredit, Entities: []string{InvoiceEntity},
			Description: "Issue a credit note of an issued invoice (of all its lines, or of the lines given), in the credit series; it reduces the invoice's balance.",
			Args: []sdk.Arg{
				{Name: "reason", Type: sdk.TypeText, Description: "Why it is credited."},
				{Name: "issue_date", Type: sdk.TypeDate, Description: "The credit note's date; today when unset."},
				{Name: "series", Type: sdk.TypeString, Description: "The numbering series; config credit_series when unset."},
				{Name: "lines", Label: "Lines", Type: sdk.TypeObject, Items: lineItems(), Description: `What is credited, as issue_invoice's lines; all of the invoice when unset.`},
			},
		}, {
			Name: ActionBalance, Entities: []string{"company", "contact"},
			Description: "What the customer owes, per currency, and its ageing by days past due.",
			Args:        []sdk.Arg{{Name: "date", Type: sdk.TypeDate, Description: "As of; today when unset."}},
		}, {
			Name:        ActionCheckOverdue,
			Description: "Mark the open invoices past their due date overdue and emit invoice.overdue for each, once a day (the plugin does it every hour by itself).",
			Args:        []sdk.Arg{{Name: "date", Type: sdk.TypeDate, Description: "The day; today when unset."}},
		}, {
			Name:        ActionExport,
			Description: "Export the invoices issued, or the payments made, in a period as CSV or JSON for an accounting system; the file is held by an accounting_export record.",
			Args: []sdk.Arg{
				{Name: "kind", Type: sdk.TypeEnum, Values: []string{ExportInvoices, ExportPayments}, Required: true},
				{Name: "format", Type: sdk.TypeEnum, Values: []string{FormatCSV, FormatJSON}, Required: true},
				{Name: "from", Type: sdk.TypeDate, Required: true, Description: "The first day of the period."},
				{Name: "to", Type: sdk.TypeDate, Required: true, Description: "The last day of the period."},
			},
		}, {
			Name:        ActionImportBank,
			Description: "Record the receipts of a bank statement (CSV: date, amount, currency, reference, payer, rate) as payments of the invoices their references name; list the lines it could not match.",
			Args:        []sdk.Arg{{Name: "file", Type: sdk.TypeFile, Required: true, Description: "The statement, a CSV file with a header row."}},
		}, {
			Name: ActionMatchBank, Entities: []string{BankLineEntity},
			Description: "Record an unmatched bank line as a payment of the invoice named.",
			Args: []sdk.Arg{
				{Name: "invoice", Type: sdk.TypeRef, To: InvoiceEntity, Required: true},
				{Name: "rate", Type: sdk.TypeDecimal, Description: "For a line in another currency than the invoice's."},
			},
		}, {
			Name:        ActionRevenue,
			Description: "Revenue of a period (invoices issued in it, net and gross, per currency) by month, manager, product or lead source.",
			Args: []sdk.Arg{
				{Name: "by", Label: "Group by", Type: sdk.TypeEnum, Values: []string{ByMonth, ByManager, ByProduct, BySource}, Required: true},
				{Name: "from", Label: "From", Type: sdk.TypeDate, Required: true},
				{Name: "to", Label: "To", Type: sdk.TypeDate, Required: true},
			},
		}, {
			Name:        ActionReceivables,
			Description: "What every customer owes, per currency, with its ageing, and the totals.",
			Args:        []sdk.Arg{{Name: "date", Label: "As of", Type: sdk.TypeDate, Description: "As of; today when unset."}},
		}},
		Events: []sdk.EventSpec{{
			Name: EventIssued, Subject: InvoiceEntity,
			Description: "An invoice or a credit note is issued, its lines written: once per invoice (for its document, a letter, an export).",
			Payload: []sdk.Arg{
				{Name: "number", Type: sdk.TypeString, Required: true},
				{Name: "issue_date", Type: sdk.TypeDate, Required: true},
				{Name: "gross", Type: sdk.TypeMoney, Required: true},
				{Name: "company", Type: sdk.TypeRef, To: "company"},
				{Name: "contact", Type: sdk.TypeRef, To: "contact"},
				{Name: "deal", Type: sdk.TypeRef, To: "deal"},
				{Name: "credit_of", Type: sdk.TypeRef, To: InvoiceEntity},
			},
		}, {
			Name: EventOverdue, Subject: InvoiceEntity,
			Description: "An open invoice is past its due date: once per invoice per day while it stays unpaid.",
			Payload: []sdk.Arg{
				{Name: "number", Type: sdk.TypeString, Required: true},
				{Name: "due_date", Type: sdk.TypeDate, Required: true},
				{Name: "days_overdue", Type: sdk.TypeInt, Required: true},
				{Name: "balance", Type: sdk.TypeMoney, Required: true},
				{Name: "company", Type: sdk.TypeRef, To: "company"},
				{Name: "contact", Type: sdk.TypeRef, To: "contact"},
				{Name: "deal", Type: sdk.TypeRef, To: "deal"},
			},
		}},
		Entities: []sdk.Entity{{
			Name: InvoiceEntity, Label: "Invoice", Locked: "status != 'draft'",
			Fields: []sdk.Field{
				{Name: "number", Label: "Number", Type: sdk.TypeString, Unique: true, Search: true},
				{Name: "series", Label: "Series", Type: sdk.TypeString},
				{Name: "year", Label: "Year", Type: sdk.TypeInt},
				{Name: "seq", Label: "Number in the year", Type: sdk.TypeInt},
				{Name: "deal", Label: "Deal", Type: sdk.TypeRef, To: "deal", Index: true},
				{Name: "company", Label: "Company", Type: sdk.TypeRef, To: "company", Index: true},
				{Name: "contact", Label: "Contact", Type: sdk.TypeRef, To: "contact", Index: true},
				{Name: "issue_date", Label: "Issue date", Type: sdk.TypeDate, Index: true},
				{Name: "due_date", Label: "Due date", Type: sdk.TypeDate, Index: true},
				{Name: "currency", Label: "Currency", Type: sdk.TypeString, Required: true},
				{Name: "status", Label: "Status", Type: sdk.TypeEnum, Required: true, Index: true,
					Values: []string{StatusDraft, StatusIssued, StatusPartlyPaid, StatusPaid, StatusOverdue, StatusCancelled, StatusCredited, StatusCreditNote, StatusPending, StatusRefused}},
				money("net", "Net"), money("vat", "VAT"), money("gross", "Total"), money("paid", "Paid"), money("balance", "Balance"),
				{Name: "cancel_reason", Label: "Why cancelled", Type: sdk.TypeText},
				{Name: "credit_of", Label: "Credit note of", Type: sdk.TypeRef, To: InvoiceEntity, Index: true},
				money("credited", "Credited"),
				{Name: "key", Label: "Idempotency key", Type: sdk.TypeString, Index: true},
				{Name: "payments", Label: "Payments applied", Type: sdk.TypeText},
				{Name: "credit_notes", Label: "Credit notes applied", Type: sdk.TypeText},
				{Name: "credit_lines", Label: "Lines credited", Type: sdk.TypeText},
			},
		}, {
			Name: LineEntity, Label: "Invoice line", Locked: "locked == true",
			Fields: []sdk.Field{
				{Name: "invoice", Label: "Invoice", Type: sdk.TypeRef, To: InvoiceEntity, Required: true, Index: true},
				{Name: "position", Label: "Position", Type: sdk.TypeInt},
				{Name: "product", Label: "Product", Type: sdk.TypeRef, To: ProductEntity},
				{Name: "description", Label: "Description", Type: sdk.TypeString, Required: true},
				{Name: "quantity", Label: "Quantity", Type: sdk.TypeDecimal, Required: true},
				money("unit_price", "Unit price"),
				{Name: "discount", Label: "Discount %", Type: sdk.TypeDecimal},
				{Name: "vat_rate", Label: "VAT %", Type: sdk.TypeDecimal},
				money("net", "Net"), money("vat", "VAT"), money("gross", "Total"),
				{Name: "locked", Label: "Issued", Type: sdk.TypeBool},
			},
		}, {
			Name: PaymentEntity, Label: "Payment", Locked: "true",
			Fields: []sdk.Field{
				{Name: "amount", Label: "Amount", Type: sdk.TypeMoney, Required: true},
				{Name: "paid_on", Label: "Date", Type: sdk.TypeDate, Required: true, Index: true},
				{Name: "method", Label: "Method", Type: sdk.TypeEnum, Values: methods},
				{Name: "rate", Label: "Rate", Type: sdk.TypeDecimal},
				{Name: "reference", Label: "Reference", Type: sdk.TypeString},
				{Name: "company", Label: "Company", Type: sdk.TypeRef, To: "company", Index: true},
				{Name: "contact", Label: "Contact", Type: sdk.TypeRef, To: "contact", Index: true},
				{Name: "key", Label: "Idempotency key", Type: sdk.TypeString, Index: true},
				{Name: "status", Label: "Status", Type: sdk.TypeEnum, Values: paymentStatuses, Index: true},
				{Name: "allocations", Label: "Allocations", Type: sdk.TypeText},
			},
		}, {
			Name: AllocationEntity, Label: "Payment allocation", Locked: "true",
			Fields: []sdk.Field{
				{Name: "payment", Label: "Payment", Type: sdk.TypeRef, To: PaymentEntity, Required: true, Index: true},
				{Name: "invoice", Label: "Invoice", Type: sdk.TypeRef, To: InvoiceEntity, Required: true, Index: true},
				{Name: "amount", Label: "Amount (invoice currency)", Type: sdk.TypeMoney, Required: true},
			},
		}, {
			Name: ProductEntity, Label: "Product",
			Fields: []sdk.Field{
				{Name: "name", Label: "Name", Type: sdk.TypeString, Required: true, Index: true, Search: true},
				{Name: "sku", Label: "SKU", Type: sdk.TypeString, Unique: true, Search: true},
				{Name: "price", Label: "Price", Type: sdk.TypeMoney},
				{Name: "vat_rate", Label: "VAT %", Type: sdk.TypeDecimal},
				{Name: "description", Label: "Description", Type: sdk.TypeText},
			},
		}, {
			Name: SeriesEntity, Label: "Invoice series", Fields: series.Fields(),
		}, {
			Name: ExportEntity, Label: "Accounting export", Locked: "true",
			Fields: []sdk.Field{
				{Name: "name", Label: "Name", Type: sdk.TypeString, Required: true},
				{Name: "kind", Label: "Kind", Type: sdk.TypeEnum, Values: []string{ExportInvoices, ExportPayments}, Required: true},
				{Name: "format", Label: "Format", Type: sdk.TypeEnum, Values: []string{FormatCSV, FormatJSON}, Required: true},
				{Name: "from", Label: "From", Type: sdk.TypeDate, Required: true},
				{Name: "to", Label: "To", Type: sdk.TypeDate, Required: true},
				{Name: "rows", Label: "Rows", Type: sdk.TypeInt},
				{Name: "file", Label: "File", Type: sdk.TypeFile, Required: true},
			},
		}, {
			Name: BankLineEntity, Label: "Bank statement line", Locked: "status == 'matched'",
			Fields: []sdk.Field{
				{Name: "statement", Label: "Statement", Type: sdk.TypeString},
				{Name: "line", Label: "Line", Type: sdk.TypeInt},
				{Name: "paid_on", Label: "Date", Type: sdk.TypeDate, Required: true},
				{Name: "amount", Label: "Amount", Type: sdk.TypeMoney, Required: true},
				{Name: "rate", Label: "Rate", Type: sdk.TypeDecimal},
				{Name: "reference", Label: "Reference", Type: sdk.TypeString},
				{Name: "payer", Label: "Payer", Type: sdk.TypeString},
				{Name: "status", Label: "Status", Type: sdk.TypeEnum, Values: []string{BankMatched, BankUnmatched}, Required: true, Index: true},
				{Name: "reason", Label: "Why not matched", Type: sdk.TypeText},
				{Name: "invoice", Label: "Invoice", Type: sdk.TypeRef, To: InvoiceEntity, Index: true},
				{Name: "payment", Label: "Payment", Type: sdk.TypeRef, To: PaymentEntity},
				{Name: "key", Label: "Line key", Type: sdk.TypeString, Index: true},
			},
		}},
		UIActions: []sdk.UIAction{
			{Entity: "deal", Action: ActionIssue, Label: "Issue invoice"},
			{Entity: InvoiceEntity, Action: ActionIssue, Label: "Issue invoice", Args: []string{"issue_date", "due_date", "series"}},
			{Entity: InvoiceEntity, Action: ActionAddLine, Label: "Add line"},
			{Entity: InvoiceEntity, Action: ActionPay, Label: "Record payment", Args: []string{"amount", "date", "method", "rate", "reference"}},
			{Entity: "company", Action: ActionPay, Label: "Record payment", Args: []string{"amount", "allocations", "date", "method", "rate", "reference"}},
			{Entity: "contact", Action: ActionPay, Label: "Record payment", Args: []string{"amount", "allocations", "date", "method", "rate", "reference"}},
			{Entity: InvoiceEntity, Action: ActionCancel, Label: "Cancel invoice"},
			{Entity: InvoiceEntity, Action: ActionCredit, Label: "Issue credit note"},
			{Entity: "company", Action: ActionBalance, Label: "Balance"},
			{Entity: "contact", Action: ActionBalance, Label: "Balance"},
			{Entity: BankLineEntity, Action: ActionMatchBank, Label: "Match to an invoice"},
			{Entity: BankLineEntity, Action: ActionImportBank, Label: "Import bank statement", Scope: sdk.ScopeList},
			{Entity: InvoiceEntity, Action: ActionExport, Label: "Export", Scope: sdk.ScopeList},
			{Entity: InvoiceEntity, Action: ActionRevenue, Label: "Revenue", Scope: sdk.ScopeList},
			{Entity: InvoiceEntity, Action: ActionReceivables, Label: "Receivables", Scope: sdk.ScopeList},
			{Entity: InvoiceEntity, Action: ActionCheckOverdue, Label: "Check overdue invoices", Scope: sdk.ScopeList},
		},
	}
}

// Configure checks the settings and starts the overdue ticker.
func (p *Plugin) Configure(ctx context.Context, c sdk.Config) error {
	var s Settings
	if err := c.Decode(&s); err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, "vat_percent and due_days must be numbers, series, won_stage and check_every text, no_invoice_template true or false: "+err.Error())
	}
	var out settings
	switch {
	case s.VATPercent == nil:
		return sdk.RefuseField("vat_percent", sdk.CodeInvalidConfig, "vat_percent is required: the VAT rate in percent of lines whose product names none (Armenia 20, Lithuania 21, Azerbaijan 18, Iran 10; 0 for none)")
	case *s.VATPercent < 0 || *s.VATPercent > 100:
		return sdk.RefuseField("vat_percent", sdk.CodeInvalidConfig, fmt.Sprintf("vat_percent must be between 0 and 100, not %v", *s.VATPercent))
	case s.DueDays != nil && *s.DueDays < 0:
		return sdk.RefuseField("due_days", sdk.CodeInvalidConfig, "due_days must not be negative")
	}
	out.vat = strconv.FormatFloat(*s.VATPercent, 'f', -1, 64)
	out.series, out.wonStage, out.dueDays = s.Series, s.WonStage, 14
	if out.series == "" {
		out.series = "INV"
	}
	if out.creditSeries = s.CreditSeries; out.creditSeries == "" {
		out.creditSeries = "CN"
	}
	if out.creditSeries == out.series {
		return sdk.RefuseField("credit_series", sdk.CodeInvalidConfig, fmt.Sprintf("credit_series must differ from series (%q): credit notes are numbered in a series of their own", out.series))
	}
	if out.wonStage == "" {
		out.wonStage = "won"
	}
	if s.DueDays != nil {
		out.dueDays = *s.DueDays
	}
	out.checkEvery = time.Hour
	if s.CheckEvery != "" {
		d, err := time.ParseDuration(s.CheckEvery)
		if err != nil || d < 0 {
			return sdk.RefuseField("check_every", sdk.CodeInvalidConfig, fmt.Sprintf("check_every must be a duration such as \"1h\" (\"0\" for never), not %q", s.CheckEvery))
		}
		out.checkEvery = d
	}
	loc, err := c.Locale.Location()
	if err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, "the instance's time zone: "+err.Error())
	}
	out.loc = loc
	out.currency = c.Locale.Currency
	recoverNumbers(ctx)

	p.mu.Lock()
	first := !p.reconciled
	p.reconciled = true
	p.mu.Unlock()
	if first {
		// No call of this process is under way yet: every pending payment
		// is one a previous process left.
		if n, err := reconcile(ctx, 0); err != nil {
			sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "payments and credit notes left pending were not all settled; the overdue ticker tries again",
				slog.Int("settled", n), slog.String("err", err.Error()))
		} else if n > 0 {
			sdk.HostFrom(ctx).Log(ctx, slog.LevelInfo, "payments and credit notes left pending by a previous process are settled", slog.Int("settled", n))
		}
	}

	p.mu.Lock()
	p.cfg = out
	if p.stopTicker != nil {
		p.stopTicker()
		p.stopTicker = nil
	}
	if out.checkEvery > 0 {
		tctx, cancel := context.WithCancel(sdk.WithHost(context.Background(), sdk.HostFrom(ctx)))
		p.stopTicker = cancel
		go p.tick(tctx, out.checkEvery)
	}
	p.mu.Unlock()
	if !s.NoInvoiceTemplate {
		if err := installTemplate(ctx); err != nil {
			sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "the invoice template was not installed", slog.String("err", err.Error()))
		}
	}
	return nil
}

func (p *Plugin) settings() settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg
}

// today is the date in the instance's time zone, as a UTC midnight (the
// form of date fields).
func (p *Plugin) today() time.Time {
	now := time.Now().In(p.settings().loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}

// periodArgs reads a period's from and to arguments (today when empty);
// to before from is refused.
func (p *Plugin) periodArgs(fromArg, toArg string) (from, to time.Time, err error) {
	if from, err = p.dateArg("from", fromArg); err != nil {
		return from, to, err
	}
	if to, err = p.dateArg("to", toArg); err != nil {
		return from, to, err
	}
	if to.Before(from) {
		return from, to, sdk.RefuseField("to", sdk.CodeInvalidArgs, fmt.Sprintf("to (%s) is before from (%s)", toArg, fromArg))
	}
	return from, to, nil
}

// dateArg reads a date argument, or today when it is empty.
func (p *Plugin) dateArg(field, s string) (time.Time, error) {
	if s == "" {
		return p.today(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, sdk.RefuseField(field, sdk.CodeInvalidArgs, fmt.Sprintf("%s: %q is not a date like 2026-03-21", field, s))
	}
	return t, nil
}

// Invoke runs the plugin's actions.
func (p *Plugin) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	switch call.Action {
	case ActionIssue:
		return p.issue(ctx, call)
	case ActionPay:
		return p.pay(ctx, call)
	case ActionAddLine:
		return p.addLine(ctx, call)
	case ActionCancel:
		return p.cancel(ctx, call)
	case ActionCredit:
		return p.credit(ctx, call)
	case ActionBalance:
		return p.balance(ctx, call)
	case ActionExport:
		return p.export(ctx, call)
	case ActionImportBank:
		return p.importStatement(ctx, call)
	case ActionMatchBank:
		return p.matchBankLine(ctx, call)
	case ActionRevenue:
		return p.revenue(ctx, call)
	case ActionReceivables:
		return p.receivables(ctx, call)
	case ActionCheckOverdue:
		var a struct {
			Date string `json:"date"`
		}
		if err := call.DecodeArgs(&a); err != nil {
			return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
		}
		day, err := p.dateArg("date", a.Date)
		if err != nil {
			return nil, err
		}
		n, err := p.checkOverdue(ctx, day)
		if err != nil {
			return nil, err
		}
		return map[string]any{"date": day.Format(time.DateOnly), "overdue": n}, nil
	}
	return p.Base.Invoke(ctx, call)
}

// tick settles the payments and credit notes left pending (see reconcile) and checks for
// overdue invoices shortly after start and then every interval, until ctx
// ends (the next Configure, or the process's end).
func (p *Plugin) tick(ctx context.Context, every time.Duration) {
	wait := time.NewTimer(min(every, 2*time.Second)) // let the start finish first
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		if _, err := reconcile(rctx, pendingGrace); err != nil && ctx.Err() == nil {
			sdk.HostFrom(ctx).Log(rctx, slog.LevelWarn, "payments and credit notes left pending were not all settled; the next tick tries again", slog.String("err", err.Error()))
		}
		if _, err := p.checkOverdue(rctx, p.today()); err != nil && ctx.Err() == nil {
			sdk.HostFrom(ctx).Log(rctx, slog.LevelWarn, "the overdue check failed; it runs again at the next tick", slog.String("err", err.Error()))
		}
		cancel()
		wait.Reset(every)
	}
}

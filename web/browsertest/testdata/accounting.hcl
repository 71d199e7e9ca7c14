# The accounting test's fixture: the sales pipeline and the first-party
# accounting plugin, as crm.hcl has them, without doctemplates (and so
# without the invoice template).
server {
  listen     = "127.0.0.1:0"
  data_dir   = "data"
  public_url = "http://localhost:8080"
}

locale {
  languages = ["en", "hy", "lt", "az", "fa", "ru"]
  default   = "en"
  calendar  = "gregorian"
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
  region    = "AM"
}

pipeline "sales" {
  entity = "deal"
  stages = ["new", "offer", "won", "lost"]
}

plugin "accounting" {
  read   = ["contact", "company", "deal"]
  write  = ["invoice", "invoice_line", "payment", "payment_allocation", "product", "invoice_series", "accounting_export", "bank_line"]
  config = { vat_percent = 20, series = "INV", no_invoice_template = true, check_every = "0" }
}

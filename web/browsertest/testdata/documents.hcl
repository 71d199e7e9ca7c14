# The documents test's fixture: the sales pipeline and the first-party
# doctemplates plugin, as crm.hcl has them, without its default quote
# template (the test uploads its own through the UI).
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
  label  = "Car sales"
  labels = { hy = "Մեքենաների վաճառք", lt = "Automobilių pardavimas", az = "Avtomobil satışı", fa = "فروش خودرو", ru = "Продажа автомобилей" }
  stages = ["new", "test_drive", "offer", "financing", "won", "lost"]
  stage_labels = {
    test_drive = { en = "Test drive", hy = "Փորձնական վարում", lt = "Bandomasis važiavimas", az = "Test sürüşü", fa = "تست رانندگی", ru = "Тест-драйв" }
    offer      = { en = "Offer", hy = "Առաջարկ", lt = "Pasiūlymas", az = "Təklif", fa = "پیشنهاد قیمت", ru = "Предложение" }
    financing  = { en = "Financing", hy = "Ֆինանսավորում", lt = "Finansavimas", az = "Maliyyələşdirmə", fa = "تأمین مالی", ru = "Финансирование" }
  }
}

plugin "doctemplates" {
  read   = ["*"]
  write  = ["document_template", "document", "document_series"]
  config = { series = "DOC", no_default_templates = true }
}

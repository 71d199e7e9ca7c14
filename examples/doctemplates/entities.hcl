# The entities the example templates are filled from, for three industries.
# Load this file beside crm.hcl (crm serve --config DIR) or paste its blocks.

# A car dealer: a deal sells a vehicle; its lines are the extras.
entity "vehicle" {
  label = "Vehicle"
  field "vin" {
    type     = "string"
    required = true
    unique   = true
  }
  field "make" { type = "string" }
  field "model" { type = "string" }
  field "year" { type = "int" }
}

entity "deal" {
  field "vehicle" {
    type = "ref"
    to   = "vehicle"
  }
}

entity "deal_line" {
  label = "Deal line"
  field "deal" {
    type     = "ref"
    to       = "deal"
    required = true
  }
  field "name" { type = "string" }
  field "qty" { type = "int" }
  field "price" { type = "money" }
}

# A clinic: a treatment plan for a patient, its procedures by session.
entity "treatment_plan" {
  label = "Treatment plan"
  field "patient" {
    type     = "ref"
    to       = "contact"
    required = true
  }
  field "doctor" { type = "string" }
  field "starts_on" { type = "date" }
  field "total" { type = "money" }
}

entity "procedure" {
  label = "Procedure"
  field "plan" {
    type     = "ref"
    to       = "treatment_plan"
    required = true
  }
  field "name" { type = "string" }
  field "tooth" { type = "string" }
  field "session" { type = "int" }
  field "price" { type = "money" }
}

# A logistics firm: a shipment from a carrier to a consignee, its items.
entity "shipment" {
  label = "Shipment"
  field "carrier" {
    type = "ref"
    to   = "company"
  }
  field "consignee" {
    type = "ref"
    to   = "contact"
  }
  field "origin" { type = "string" }
  field "destination" { type = "string" }
  field "weight_kg" { type = "decimal" }
  field "cost" { type = "money" }
}

entity "shipment_item" {
  label = "Shipment item"
  field "shipment" {
    type     = "ref"
    to       = "shipment"
    required = true
  }
  field "name" { type = "string" }
  field "qty" { type = "int" }
  field "weight_kg" { type = "decimal" }
}

# Documents show in the timelines of the records they were made for when
# the document entity has a ref field to them: the plugin's contact,
# company and deal fields. A document of a treatment plan links to its
# patient (a contact), a waybill to its carrier (a company) and consignee.

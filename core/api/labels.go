package api

import "github.com/crmkit/crm/config"

// localeJSON is the locale block as GET /api/v1/schema gives it.
func (s *Server) localeJSON() map[string]any {
	l := s.opts.Schema.Locale()
	return map[string]any{"languages": l.Languages, "default": l.Default, "calendar": l.Calendar,
		"currency": l.Currency, "timezone": l.Timezone}
}

// labelsJSON is a labels map, {} when there is none.
func labelsJSON(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// valueLabelsJSON gives every enum value its labels ({} when it has none).
func valueLabelsJSON(values []string, labels map[string]map[string]string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(values))
	for _, v := range values {
		out[v] = labelsJSON(labels[v])
	}
	return out
}

// stageLabelsJSON gives every stage of a pipeline its built-in labels ({}
// for a stage without).
func stageLabelsJSON(stages []string) map[string]map[string]string {
	out := make(map[string]map[string]string, len(stages))
	for _, st := range stages {
		out[st] = labelsJSON(config.StageLabels(st))
	}
	return out
}

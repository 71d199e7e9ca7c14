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

// stageLabelsJSON gives every stage of a pipeline its labels ({} for a
// stage without).
func stageLabelsJSON(p *config.Pipeline) map[string]map[string]string {
	out := make(map[string]map[string]string, len(p.Stages))
	for _, st := range p.Stages {
		out[st] = labelsJSON(p.StageLabels[st])
	}
	return out
}

// pipelineJSON is a pipeline as GET /api/v1/schema gives it.
func pipelineJSON(p *config.Pipeline) map[string]any {
	label := p.Label
	if label == "" {
		label = p.Name
	}
	return map[string]any{"name": p.Name, "label": label, "labels": labelsJSON(p.Labels),
		"stages": p.Stages, "stage_labels": stageLabelsJSON(p)}
}

package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
)

var (
	sha256Re   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	regionRe   = regexp.MustCompile(`^[A-Z]{2}$`)
)

// checkPipelines checks each pipeline, adds the pipeline and stage fields to
// an entity that lacks them, and adds the default deal pipeline when no
// block gives one.
func (l *loader) checkPipelines() {
	l.cfg.Pipelines = dedupe(l, "pipeline", "", l.cfg.Pipelines, func(p *Pipeline) string { return p.Name })
	hasDeal := false
	for _, p := range l.cfg.Pipelines {
		s := l.src[p]
		if s.ok("stages") && len(p.Stages) == 0 {
			l.report(s.at("stages"), fmt.Sprintf("pipeline %q has no stages", p.Name), `list them, e.g. stages = ["new", "won", "lost"]`)
		}
		l.checkUnique(p.Stages, s, "stages", "stage", fmt.Sprintf(" in pipeline %q", p.Name))
		if !s.ok("entity") {
			continue
		}
		hasDeal = hasDeal || p.Entity == "deal"
		e := l.cfg.Entity(p.Entity)
		if e == nil {
			l.report(s.at("entity"), fmt.Sprintf("pipeline %q is for unknown entity %q", p.Name, p.Entity), hint(p.Entity, l.configEntityNames(), "entities"))
			continue
		}
		addStageFields(e, p)
	}
	if !hasDeal {
		l.cfg.Pipelines = append(l.cfg.Pipelines, defaultPipeline())
	}
	for _, p := range l.cfg.Pipelines {
		l.pipelineLabels(p)
	}
}

// pipelineLabels fills in a pipeline's label and merges its labels and
// its stages' labels with the built-in ones; a stage_labels key that is
// not one of the stages is an error.
func (l *loader) pipelineLabels(p *Pipeline) {
	s := l.src[p]
	if s == nil {
		s = &src{}
	}
	if p.Label == "" {
		p.Label = defaultLabel(p.Name)
	}
	p.Labels = mergeLabels(builtinLabel("pipeline="+p.Name), p.Labels, s)
	for _, st := range slices.Sorted(maps.Keys(p.StageLabels)) {
		if !slices.Contains(p.Stages, st) {
			l.report(s.keys["stage:"+st], fmt.Sprintf("stage_labels: %q is not a stage of pipeline %q", st, p.Name), hint(st, p.Stages, "its stages"))
		}
	}
	merged := make(map[string]map[string]string, len(p.Stages))
	for _, st := range p.Stages {
		m := StageLabels(st)
		for lang, v := range p.StageLabels[st] {
			if m == nil {
				m = map[string]string{}
			}
			m[lang] = v
		}
		if m != nil {
			merged[st] = m
		}
	}
	p.StageLabels = merged
}

// addStageFields gives an entity with a pipeline the fields that hold a
// record's pipeline and stage.
func addStageFields(e *Entity, p *Pipeline) {
	if e.Field("stage") != nil {
		return
	}
	for _, name := range []string{"pipeline", "stage"} {
		if e.Field(name) == nil {
			e.Fields = append(e.Fields, &Field{Name: name, Label: defaultLabel(name), Type: TypeString, Index: true, Range: p.Range})
		}
	}
}

// checkPlugins checks each plugin: a first-party one by name, a third-party
// one by path and checksum, and the entities it may read and write.
func (l *loader) checkPlugins() {
	l.cfg.Plugins = dedupe(l, "plugin", "", l.cfg.Plugins, func(p *Plugin) string { return p.Name })
	for _, p := range l.cfg.Plugins {
		s := l.src[p]
		l.checkName("plugin", p.Name, s)
		l.checkPluginSource(p, s)
		l.checkContributed(p, s)
	}
	// Entity lists after every plugin is known: one plugin may be granted
	// another's entities.
	for _, p := range l.cfg.Plugins {
		s := l.src[p]
		owner := fmt.Sprintf("plugin %q", p.Name)
		l.checkEntityList(p.Read, s, "read", owner)
		l.checkEntityList(p.Write, s, "write", owner)
	}
}

// checkContributed checks the entities a plugin block declares it
// contributes: valid names, not an entity of the configuration (built-in or
// HCL block), not a first-party plugin's, and not given twice.
func (l *loader) checkContributed(p *Plugin, s *src) {
	if s.failed["entities"] {
		return
	}
	l.checkUnique(p.Entities, s, "entities", "entity", fmt.Sprintf(" in plugin %q", p.Name))
	for i, n := range p.Entities {
		at := s.elem("entities", i)
		if !nameRe.MatchString(n) {
			l.report(at, fmt.Sprintf("invalid entity name %q", n), nameRule)
			continue
		}
		if e := l.cfg.Entity(n); (e != nil && e.Extends != p.Name) || l.isFirstPartyEntity(n) {
			l.report(at, fmt.Sprintf("%q is already an entity; a plugin cannot contribute it", n), "")
			continue
		}
		for _, q := range l.cfg.Plugins {
			if q == p {
				break
			}
			if slices.Contains(q.Entities, n) {
				l.report(at, fmt.Sprintf("entity %q is contributed by plugin %q too", n, q.Name), "an entity comes from one plugin")
				break
			}
		}
	}
}

// isFirstPartyEntity reports whether a declared first-party plugin
// contributes the entity.
func (l *loader) isFirstPartyEntity(name string) bool {
	for _, p := range l.cfg.Plugins {
		if p.Path == "" && slices.Contains(l.firstParty[p.Name].Entities, name) {
			return true
		}
	}
	return false
}

// checkPluginSource checks where a plugin comes from.
func (l *loader) checkPluginSource(p *Plugin, s *src) {
	switch {
	case s.has("sha256") && !s.has("path"):
		l.report(s.at("sha256"), fmt.Sprintf("plugin %q has sha256 but no path", p.Name), "sha256 is the checksum of the executable at path")
	case s.has("path") && !s.has("sha256"):
		l.report(s.at("path"), fmt.Sprintf("plugin %q has path but no sha256", p.Name), "the host runs a third-party plugin only if its SHA-256 matches")
	case !s.has("path"):
		if _, ok := l.firstParty[p.Name]; !ok {
			d := hint(p.Name, l.firstPartyNames, "first-party plugins")
			if Suggest(p.Name, l.firstPartyNames) == "" {
				d += "; a third-party plugin needs path and sha256"
			}
			l.report(s.name, fmt.Sprintf("unknown first-party plugin %q", p.Name), d)
		}
	}
	if s.ok("sha256") && !sha256Re.MatchString(p.SHA256) {
		l.report(s.at("sha256"), fmt.Sprintf("sha256 of plugin %q is not 64 hex digits", p.Name), "")
	}
}

// checkRoles checks each role's name and the entities it may read and write.
func (l *loader) checkRoles() {
	l.cfg.Roles = dedupe(l, "role", "", l.cfg.Roles, func(r *Role) string { return r.Name })
	for _, r := range l.cfg.Roles {
		s := l.src[r]
		l.checkName("role", r.Name, s)
		if r.Name == "admin" {
			l.report(s.name, `role "admin" is built in`, "admin may do everything, so pick another name")
		}
		owner := fmt.Sprintf("role %q", r.Name)
		l.checkEntityList(r.Read, s, "read", owner)
		l.checkEntityList(r.Write, s, "write", owner)
	}
}

// checkRules checks the shape of each rule; its expressions are compiled
// later, by the rules package.
func (l *loader) checkRules() {
	l.cfg.Rules = dedupe(l, "rule", "", l.cfg.Rules, func(r *Rule) string { return r.Name })
	for _, r := range l.cfg.Rules {
		s := l.src[r]
		l.checkName("rule", r.Name, s)
		l.checkTrigger(r, s)
		for i, ev := range r.On {
			l.checkEvent(ev, s.elem("on", i))
		}
		if len(r.Actions) == 0 {
			l.report(s.name, fmt.Sprintf("rule %q has no action", r.Name), `add one, e.g. action "notify" { to = "record.owner" }`)
		}
		for _, a := range r.Actions {
			l.checkAction(a)
		}
	}
}

// checkTrigger checks that a rule has exactly one trigger: on, or every or
// cron with for_each.
func (l *loader) checkTrigger(r *Rule, s *src) {
	on, every, cr, each := s.has("on"), s.has("every"), s.has("cron"), s.has("for_each")
	switch {
	case !on && !every && !cr:
		l.report(s.name, fmt.Sprintf("rule %q has no trigger", r.Name), `give on = ["ENTITY.EVENT"], or every or cron with for_each`)
	case on && every:
		l.report(s.at("every"), fmt.Sprintf("rule %q has both on and every", r.Name), "a rule has one trigger")
	case on && cr:
		l.report(s.at("cron"), fmt.Sprintf("rule %q has both on and cron", r.Name), "a rule has one trigger")
	case every && cr:
		l.report(s.at("cron"), fmt.Sprintf("rule %q has both every and cron", r.Name), "a rule has one schedule")
	case on && each:
		l.report(s.at("for_each"), "for_each is only for every or cron", "a rule with on runs for the record of each event")
	case !on && !each:
		attr := "every"
		if cr {
			attr = "cron"
		}
		l.report(s.at(attr), fmt.Sprintf("rule %q has %s but no for_each", r.Name, attr), `name the entity whose records it runs for, e.g. for_each = "deal"`)
	case on && s.ok("on") && len(r.On) == 0:
		l.report(s.at("on"), fmt.Sprintf("rule %q has no events in on", r.Name), `list them, e.g. on = ["deal.created"]`)
	}
	if on && s.has("filter") {
		l.report(s.at("filter"), "filter is only for for_each", "it picks the records a scheduled rule runs for; a rule with on tests its record in when")
	}
	l.checkSchedule(r, s)
}

// checkSchedule checks every, cron and for_each.
func (l *loader) checkSchedule(r *Rule, s *src) {
	if s.ok("every") {
		d, err := time.ParseDuration(r.Every)
		switch {
		case err != nil:
			l.report(s.at("every"), fmt.Sprintf("invalid duration %q", r.Every), `every takes a duration such as "30m", "1h" or "24h"`)
		case d < time.Minute:
			l.report(s.at("every"), fmt.Sprintf("every %q is shorter than 1m", r.Every), "a schedule runs at most once a minute")
		}
	}
	if s.ok("cron") {
		l.checkCron(r.Cron, s)
	}
	if s.ok("for_each") && !slices.Contains(l.entityNames(), r.ForEach) {
		l.report(s.at("for_each"), fmt.Sprintf("for_each names unknown entity %q", r.ForEach), hint(r.ForEach, l.entityNames(), "entities"))
	}
}

// checkCron checks a standard 5-field cron spec.
func (l *loader) checkCron(spec string, s *src) {
	if strings.HasPrefix(spec, "@every") {
		l.report(s.at("cron"), fmt.Sprintf("invalid cron spec %q", spec), `write every = "..." for a fixed interval`)
		return
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		l.report(s.at("cron"), fmt.Sprintf("invalid cron spec %q", spec), err.Error())
	}
}

// checkEvent checks one event of a rule's on: ENTITY.EVENT for an entity,
// a first-party plugin's event, or an event of a declared third-party plugin.
func (l *loader) checkEvent(ev string, at hcl.Range) {
	prefix, what, ok := strings.Cut(ev, ".")
	if !ok || prefix == "" || what == "" {
		l.report(at, fmt.Sprintf("invalid event %q", ev), `an event is ENTITY.EVENT, e.g. "deal.created", or a plugin event, e.g. "call.missed"`)
		return
	}
	if l.pluginOfEvent(ev) != "" {
		l.checkEventPlugin(ev, at)
		return
	}
	if slices.Contains(l.entityNames(), prefix) {
		l.checkRecordEvent(prefix, what, at)
		return
	}
	if p := l.pluginEvents(prefix); len(p) > 0 {
		l.report(at, fmt.Sprintf("unknown event %q", ev), hint(ev, p, "events"))
		return
	}
	if slices.ContainsFunc(l.cfg.Plugins, func(p *Plugin) bool { return p.Path != "" }) {
		return // maybe a third-party plugin's event: the rules compiler checks it once the app read their manifests (Config.PluginEventsKnown)
	}
	names := l.entityNames()
	for _, ev := range l.firstPartyEvents() {
		if p, _, _ := strings.Cut(ev.Name, "."); !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	l.report(at, fmt.Sprintf("unknown entity %q in event %q", prefix, ev), hint(prefix, names, "entities"))
}

// checkRecordEvent checks the event part of ENTITY.EVENT.
func (l *loader) checkRecordEvent(entity, what string, at hcl.Range) {
	if !slices.Contains(recordEvents, what) {
		d := fmt.Sprintf("events of a record: %s", strings.Join(recordEvents, ", "))
		if s := Suggest(what, recordEvents); s != "" {
			d = fmt.Sprintf("did you mean %q?", entity+"."+s)
		}
		l.report(at, fmt.Sprintf("unknown event %q", entity+"."+what), d)
		return
	}
	if e := l.cfg.Entity(entity); what == "stage_changed" && e != nil && e.Field("stage") == nil {
		l.report(at, fmt.Sprintf("entity %q has no stage", entity), "only an entity with a pipeline has stage_changed")
	}
}

// checkEventPlugin warns when a first-party plugin's event is used but the
// plugin is not declared, so the rule would never run.
func (l *loader) checkEventPlugin(ev string, at hcl.Range) {
	name := l.pluginOfEvent(ev)
	if l.cfg.Plugin(name) == nil {
		l.warn(at, fmt.Sprintf("event %q comes from plugin %q, which is not declared", ev, name), fmt.Sprintf(`add plugin %q {} or the rule never runs`, name))
	}
}

// pluginEvents are the known first-party events that start with prefix.
func (l *loader) pluginEvents(prefix string) []string {
	var out []string
	for _, ev := range l.firstPartyEvents() {
		if strings.HasPrefix(ev.Name, prefix+".") {
			out = append(out, ev.Name)
		}
	}
	return out
}

// checkAction checks an action's kind: built in, or PLUGIN.ACTION of a
// declared plugin. The action's arguments are checked later against the
// plugin's manifest.
func (l *loader) checkAction(a *Action) {
	at := l.src[a].name
	plugin, action, isPlugin := strings.Cut(a.Kind, ".")
	if !isPlugin {
		if !slices.Contains(actionKinds, a.Kind) {
			d := hint(a.Kind, actionKinds, "actions")
			if !strings.HasPrefix(d, "did you mean") {
				d += ", or PLUGIN.ACTION"
			}
			l.report(at, fmt.Sprintf("unknown action %q", a.Kind), d)
		}
		return
	}
	if l.cfg.Plugin(plugin) == nil {
		names := make([]string, 0, len(l.cfg.Plugins))
		for _, p := range l.cfg.Plugins {
			names = append(names, p.Name)
		}
		d := Suggest(plugin, names)
		detail := fmt.Sprintf("no plugin block declares %q", plugin)
		if d != "" {
			detail = fmt.Sprintf("did you mean %q?", d+"."+action)
		}
		l.report(at, fmt.Sprintf("unknown plugin %q in action %q", plugin, a.Kind), detail)
		return
	}
	if !nameRe.MatchString(action) {
		l.report(at, fmt.Sprintf("invalid action name %q", a.Kind), "a plugin action is PLUGIN.ACTION; "+nameRule)
	}
}

// checkServer checks the server block.
func (l *loader) checkServer() {
	sv := &l.cfg.Server
	if sv.PublicURL == "" {
		sv.PublicURL = defaultPublicURL(sv.Listen)
	}
	if sv.Store == "" {
		sv.Store = StoreBadger
	}
	if sv.Lease == 0 {
		sv.Lease = DefaultLease
	}
	s := l.serverSrc
	if s == nil {
		return
	}
	switch {
	case sv.Store != StoreBadger && sv.Store != StorePostgres:
		l.report(s.at("store"), fmt.Sprintf("unknown store %q", sv.Store), `store is "badger" (embedded, the default) or "postgres"`)
	case sv.Store == StorePostgres && sv.PostgresURLEnv == "":
		sv.PostgresURLEnv = DefaultPostgresURLEnv
	case sv.Store == StoreBadger && s.has("postgres_url_env"):
		l.report(s.at("postgres_url_env"), "postgres_url_env without store = \"postgres\"", `add store = "postgres", or remove postgres_url_env`)
	}
	if s.ok("postgres_url_env") && !envNameRe.MatchString(sv.PostgresURLEnv) {
		l.report(s.at("postgres_url_env"), fmt.Sprintf("invalid environment variable name %q", sv.PostgresURLEnv), `e.g. postgres_url_env = "CRM_POSTGRES_URL"`)
	}
	if s.ok("listen") {
		if _, _, err := net.SplitHostPort(sv.Listen); err != nil {
			l.report(s.at("listen"), fmt.Sprintf("invalid listen address %q", sv.Listen), `listen is host:port, e.g. "127.0.0.1:8080" or ":8080"`)
		}
	}
	if s.ok("node_id") && (strings.TrimSpace(sv.NodeID) != sv.NodeID || sv.NodeID == "" || len(sv.NodeID) > 100) {
		l.report(s.at("node_id"), fmt.Sprintf("invalid node_id %q", sv.NodeID), `node_id names this node among those sharing the store, e.g. node_id = "crm-1"; leave it out for a random one`)
	}
	if s.ok("data_dir") && sv.DataDir == "" {
		l.report(s.at("data_dir"), "data_dir is empty", `give a directory, e.g. data_dir = "data"`)
	}
	if s.ok("public_url") {
		u, err := url.Parse(sv.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.report(s.at("public_url"), fmt.Sprintf("invalid public_url %q", sv.PublicURL), `public_url is the address users open, e.g. "https://crm.example.com"`)
		}
	}
}

// defaultPublicURL is "http://" + listen, with localhost for a listen
// address that gives no host or every host (":8080", "0.0.0.0:8080").
func defaultPublicURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		return "http://" + net.JoinHostPort("localhost", port)
	}
	return "http://" + listen
}

// checkLocale checks the locale block.
func (l *loader) checkLocale() {
	s := l.localeSrc
	if s == nil {
		return
	}
	lc := &l.cfg.Locale
	l.checkLanguages(lc, s)
	if s.ok("calendar") && lc.Calendar != "gregorian" && lc.Calendar != "jalali" {
		l.report(s.at("calendar"), fmt.Sprintf("unknown calendar %q", lc.Calendar), hint(lc.Calendar, []string{"gregorian", "jalali"}, "calendars"))
	}
	if s.ok("currency") {
		l.checkCurrency(lc.Currency, s)
	}
	if s.ok("timezone") {
		l.checkTimezone(lc.Timezone, s)
	}
	if s.ok("region") && lc.Region != "" && !regionRe.MatchString(lc.Region) {
		l.report(s.at("region"), fmt.Sprintf("invalid region %q", lc.Region), `region is an ISO 3166-1 alpha-2 code in upper case, e.g. "AM"`)
	}
}

// checkLanguages checks languages and default.
func (l *loader) checkLanguages(lc *Locale, s *src) {
	if s.failed["languages"] {
		return
	}
	if s.has("languages") && len(lc.Languages) == 0 {
		l.report(s.at("languages"), "languages is empty", `list at least one, e.g. languages = ["en"]`)
		return
	}
	for i, lang := range lc.Languages {
		if _, err := language.Parse(lang); err != nil {
			l.report(s.elem("languages", i), fmt.Sprintf("unknown language %q", lang), `a language is a BCP 47 tag, e.g. "en" or "hy"`)
		}
	}
	l.checkUnique(lc.Languages, s, "languages", "language", "")
	if s.ok("default") && !slices.Contains(lc.Languages, lc.Default) {
		l.report(s.at("default"), fmt.Sprintf("default language %q is not in languages", lc.Default), hint(lc.Default, lc.Languages, "languages"))
	}
}

// checkCurrency checks an ISO 4217 code.
func (l *loader) checkCurrency(code string, s *src) {
	if !currencyRe.MatchString(code) {
		l.report(s.at("currency"), fmt.Sprintf("invalid currency %q", code), `currency is an ISO 4217 code in upper case, e.g. "USD"`)
		return
	}
	if _, err := currency.ParseISO(code); err != nil {
		l.report(s.at("currency"), fmt.Sprintf("unknown currency %q", code), `currency is an ISO 4217 code, e.g. "USD", "EUR" or "AMD"`)
	}
}

// checkTimezone checks an IANA time zone name.
func (l *loader) checkTimezone(name string, s *src) {
	_, err := time.LoadLocation(name)
	if err == nil && name != "" && name != "Local" {
		return
	}
	l.report(s.at("timezone"), fmt.Sprintf("unknown time zone %q", name), `timezone is an IANA name, e.g. "Asia/Yerevan" or "UTC"`)
}

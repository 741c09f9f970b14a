package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"mqstack/eagle/internal/store"
)

//go:embed templates/*.html static/*
var assets embed.FS

var pages = map[string]*template.Template{}

func init() {
	layout, err := fs.ReadFile(assets, "templates/layout.html")
	if err != nil {
		panic(err)
	}
	files, _ := fs.Glob(assets, "templates/*.html")
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		body, _ := fs.ReadFile(assets, f)
		t := template.Must(template.New("layout").Funcs(funcs).Parse(string(layout)))
		template.Must(t.Parse(string(body)))
		pages[name] = t
	}
}

// wantsJSON: ?format=json or an Accept header preferring JSON.
func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f == "json"
	}
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// layoutData is what the layout sees; Data is the page's own view, the same
// value the JSON twin returns.
type layoutData struct {
	Name, Title string
	User        *session
	Cluster     string
	Clusters    []string
	Level       string
	Msg         string
	Version     string
	Now         time.Time
	Data        any
}

// render writes a page, or its JSON twin.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, data)
		return
	}
	t, ok := pages[name]
	if !ok {
		http.Error(w, "eagle: no template "+name, http.StatusInternalServerError)
		return
	}
	ld := layoutData{Name: name, Title: name, User: sessionOf(r), Msg: r.URL.Query().Get("msg"), Version: Version, Now: time.Now(), Data: data}
	if c := s.clusterOf(r); c != nil {
		ld.Cluster = c.alias
		ld.Level = c.view().Verdict.Level
	}
	for _, c := range s.clusters {
		ld.Clusters = append(ld.Clusters, c.alias)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", ld); err != nil {
		s.log.Error().Err(err).Str("page", name).Msg("template")
		http.Error(w, "eagle: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// fail answers an error as a page or JSON.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	w.WriteHeader(code)
	s.render(w, r, "error", map[string]any{"Code": code, "Error": msg})
}

// flash answers a done change: JSON, or a redirect showing msg.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, to, msg string) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"ok": msg})
		return
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"msg="+url.QueryEscape(msg), http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

var funcs = template.FuncMap{
	"bytes":  humanBytes,
	"num":    humanNum,
	"rate":   humanRate,
	"ts":     func(t time.Time) string { return fmtTime(t) },
	"ago":    ago,
	"ids":    ids,
	"pct":    func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) + "%" },
	"lower":  strings.ToLower,
	"q":      url.QueryEscape,
	"path":   url.PathEscape,
	"chart":  chart,
	"add":    func(a, b int) int { return a + b },
	"sortkv": sortKV,
	"join":   strings.Join,
	"list":   func(v ...string) []string { return v },
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t).Round(time.Second)
	if d > 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.String()
}

func humanBytes(v any) string {
	f := toFloat(v)
	if f < 0 {
		return "-"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", f)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

func humanNum(v any) string {
	f := toFloat(v)
	if f < 0 {
		return "-"
	}
	if f == math.Trunc(f) && f < 1e15 {
		s := strconv.FormatInt(int64(f), 10)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

func humanRate(v any) string {
	f := toFloat(v)
	if f < 0 {
		return "-"
	}
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 2, 64) + "/s"
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + "/s"
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func ids(v []int32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(int(x))
	}
	return strings.Join(parts, ",")
}

type kv struct{ K, V string }

func sortKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// Chart is one history chart: a series over a time range.
type Chart struct {
	Title string      `json:"title"`
	Unit  string      `json:"unit"` // "rate", "bytes", "num", "ms"
	From  time.Time   `json:"from"`
	To    time.Time   `json:"to"`
	Lines []ChartLine `json:"lines"`
	Note  string      `json:"note,omitempty"`
}

// ChartLine is one series of a chart.
type ChartLine struct {
	Name   string        `json:"name"`
	Points []store.Point `json:"points"`
}

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"}

func fmtUnit(unit string, v float64) string {
	switch unit {
	case "rate":
		return humanRate(v)
	case "bytes":
		return humanBytes(v)
	case "bytesrate":
		return humanBytes(v) + "/s"
	case "ms":
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return humanNum(math.Round(v))
}

// chart draws a line chart as inline SVG (no script, no external asset).
func chart(c Chart) template.HTML {
	const W, H, L, R, T, B = 640.0, 180.0, 70.0, 10.0, 22.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`, W, H, W, H, template.HTMLEscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="ct">%s</text>`, L, template.HTMLEscapeString(c.Title))
	maxV := 0.0
	n := 0
	for _, l := range c.Lines {
		for _, p := range l.Points {
			maxV = math.Max(maxV, p.V)
			n++
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	span := c.To.Sub(c.From).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 { return L + (W-L-R)*t.Sub(c.From).Seconds()/span }
	y := func(v float64) float64 { return T + (H-T-B)*(1-v/maxV) }
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="ax"/>`, L, H-B, W-R, H-B)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="ax"/>`, L, T, L, H-B)
	for _, f := range []float64{0, 0.5, 1} {
		v := maxV * f
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="yl">%s</text>`, L-4, y(v)+4, template.HTMLEscapeString(fmtUnit(c.Unit, v)))
		if f > 0 {
			fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="grid"/>`, L, y(v), W-R, y(v))
		}
	}
	layout := "15:04"
	if span > 36*3600 {
		layout = "01-02 15:04"
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="xl">%s</text>`, L, H-6, c.From.UTC().Format(layout))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="xl" text-anchor="end">%s UTC</text>`, W-R, H-6, c.To.UTC().Format(layout))
	if n == 0 {
		note := c.Note
		if note == "" {
			note = "no samples in this range yet"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="empty">%s</text>`, (L+W)/2, H/2, template.HTMLEscapeString(note))
	}
	for i, l := range c.Lines {
		col := palette[i%len(palette)]
		var pts []string
		for _, p := range l.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
		}
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2" fill="%s"/>`, strings.Split(pts[0], ",")[0], strings.Split(pts[0], ",")[1], col)
		} else if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, col, strings.Join(pts, " "))
		}
		if len(c.Lines) > 1 {
			fmt.Fprintf(&b, `<text x="%.0f" y="14" class="lg" fill="%s">%s</text>`, W-R-float64(len(c.Lines)-i)*120, col, template.HTMLEscapeString(l.Name))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

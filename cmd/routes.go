package cmd

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/wsgi"
)

type routesOptions struct {
	sort       string
	allMethods bool
	json       bool
	mounts     []string
	python     string
}

func newRoutes() *cobra.Command {
	var o routesOptions
	c := &cobra.Command{
		Use:   "routes [APP...]",
		Short: "List registered apps and their routes",
		Long: `List the routes of registered apps, as flask routes does: one row a route,
with the app, the endpoint that answers it, its methods and the rule. An app
without a router is one catch-all row. A second table gives each app's
description. With --mount, rules are shown as the full paths wsgo serve would
answer them at, with the first APP at the root.`,
		Example: `  wsgo routes
  wsgo routes hello --all-methods
  wsgo routes demo --mount /hello=hello
  wsgo routes --json`,
		ValidArgsFunction: completeApps,
		RunE: func(c *cobra.Command, args []string) error {
			if m, err := locate(""); m != nil && err == nil && !slices.ContainsFunc(append(args, o.mounts...), isPythonTarget) {
				return passThrough(c, m) // the module's apps, not this binary's
			}
			log := devserver.NewLogger(c.ErrOrStderr(), false)
			s := &served{}
			defer s.close()
			rows, err := routeRows(c.Context(), args, o, s, log)
			if err != nil {
				return err
			}
			if o.json {
				return writeRoutesJSON(c.OutOrStdout(), rows)
			}
			writeRoutesTable(c.OutOrStdout(), rows)
			writeDescriptions(c.OutOrStdout(), rows)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.sort, "sort", "app", "order rows by app, rule, methods or match (the order patterns were registered)")
	f.BoolVar(&o.allMethods, "all-methods", false, "show HEAD, which GET routes also answer")
	f.BoolVar(&o.json, "json", false, "print JSON, for scripts")
	f.StringArrayVar(&o.mounts, "mount", nil, "show APP mounted below PREFIX, as PREFIX=APP (repeatable), as serve does")
	f.StringVar(&o.python, "python", "", "for a Python target: the interpreter (or WSGO_PYTHON)")
	c.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions([]string{"app", "rule", "methods", "match"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// routeRow is one line of `wsgo routes`.
type routeRow struct {
	App      string   `json:"app"`
	Endpoint string   `json:"endpoint"`
	Methods  []string `json:"methods"`
	Rule     string   `json:"rule"`
	order    int
	about    string // the app's description
}

// routeRows lists the routes of the apps named (all registered, if none),
// starting the Python apps among them; s stops them.
func routeRows(ctx context.Context, names []string, o routesOptions, s *served, log *devserver.Logger) ([]routeRow, error) {
	if !slices.Contains([]string{"app", "rule", "methods", "match"}, o.sort) {
		return nil, usageErrorf("invalid --sort %q: want app, rule, methods or match", o.sort)
	}
	so := serveOptions{mounts: o.mounts, python: o.python, workers: 1, threads: 1}
	specs, err := so.parseMounts(ctx, s, log)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && len(specs) == 0 {
		names = wsgi.Names()
	}
	if len(specs) > 0 && len(names) != 1 {
		return nil, usageErrorf("with --mount, name the one app served at the root (got %d)", len(names))
	}
	var listed []mountSpec
	for _, n := range names {
		e, err := so.resolve(ctx, n, s, log)
		if err != nil {
			return nil, err
		}
		listed = append(listed, mountSpec{"", e})
	}
	if len(specs) > 0 {
		if _, err := mountApps(listed[0].entry, specs); err != nil {
			return nil, err
		}
		listed = append(listed, specs...)
	}

	var rows []routeRow
	for _, m := range listed {
		for _, r := range appRoutes(m.entry) {
			methods := []string{cmp.Or(r.Method, "ANY")}
			if o.allMethods && r.Method == "GET" {
				methods = append(methods, "HEAD")
			}
			rule := r.Host + strings.TrimSuffix(m.prefix, "/") + r.Path
			rows = append(rows, routeRow{App: m.entry.Name, Endpoint: r.Endpoint, Methods: methods, Rule: rule, order: len(rows), about: m.entry.Description})
		}
	}
	sortRows(rows, o.sort)
	return rows, nil
}

// appRoutes lists an app's routes, or one catch-all route for an app
// without a router, with its endpoint named as a router names it.
func appRoutes(e wsgi.Entry) []wsgi.Route {
	if l, ok := e.App.(wsgi.RouteLister); ok {
		return l.Routes()
	}
	r := wsgi.NewRouter()
	r.Handle("/{path...}", e.App)
	return r.Routes()
}

func sortRows(rows []routeRow, by string) {
	key := func(r routeRow) string {
		switch by {
		case "rule":
			return r.Rule
		case "methods":
			return strings.Join(r.Methods, ",")
		case "match":
			return ""
		}
		return r.App
	}
	slices.SortStableFunc(rows, func(a, b routeRow) int {
		return cmp.Or(strings.Compare(key(a), key(b)), cmp.Compare(a.order, b.order))
	})
}

// writeRoutesTable prints rows as flask routes does: a header, a dashed
// rule, left-aligned columns joined by two spaces.
func writeRoutesTable(w io.Writer, rows []routeRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "No routes were registered.")
		return
	}
	table := [][]string{{"App", "Endpoint", "Methods", "Rule"}}
	for _, r := range rows {
		table = append(table, []string{r.App, r.Endpoint, strings.Join(r.Methods, ", "), r.Rule})
	}
	writeTable(w, table)
}

// writeDescriptions prints, after the routes, what each listed app is, by
// name; apps without a description are left out.
func writeDescriptions(w io.Writer, rows []routeRow) {
	about := map[string]string{}
	for _, r := range rows {
		if r.about != "" {
			about[r.App] = r.about
		}
	}
	if len(about) == 0 {
		return
	}
	table := [][]string{{"App", "Description"}}
	for _, name := range slices.Sorted(maps.Keys(about)) {
		table = append(table, []string{name, about[name]})
	}
	fmt.Fprintln(w)
	writeTable(w, table)
}

// writeTable prints table's first row as a header over a dashed rule, and
// the rest below, in left-aligned columns joined by two spaces.
func writeTable(w io.Writer, table [][]string) {
	widths := make([]int, len(table[0]))
	for _, row := range table {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	line := func(cells []string) {
		parts := make([]string, len(cells))
		for i, c := range cells {
			parts[i] = c + strings.Repeat(" ", widths[i]-len(c))
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, "  "), " "))
	}
	line(table[0])
	dashes := make([]string, len(widths))
	for i, n := range widths {
		dashes[i] = strings.Repeat("-", n)
	}
	line(dashes)
	for _, row := range table[1:] {
		line(row)
	}
}

func writeRoutesJSON(w io.Writer, rows []routeRow) error {
	if rows == nil {
		rows = []routeRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

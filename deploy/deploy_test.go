package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"gopkg.in/yaml.v3"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/config"
)

// The tests run in deploy/: paths are relative to it.

// obj is a decoded YAML mapping.
type obj = map[string]any

func readYAML(t *testing.T, file string) obj {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m obj
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if m == nil {
		t.Fatalf("%s: empty", file)
	}
	return m
}

// readYAMLDocs decodes every document of a multi-document file.
func readYAMLDocs(t *testing.T, file string) []obj {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []obj
	for {
		var m obj
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", file, len(docs)+1, err)
		}
		if m != nil {
			docs = append(docs, m)
		}
	}
}

// get walks a path of mapping keys and sequence indexes.
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func str(v any, keys ...any) string {
	switch x := get(v, keys...).(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func list(v any, keys ...any) []any {
	s, _ := get(v, keys...).([]any)
	return s
}

func mustExist(t *testing.T, what, p string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Errorf("%s: %s does not exist: %v", what, p, err)
	}
}

// loadVigiaConfig loads deploy/vigia.yml as `vigia config check` does.
func loadVigiaConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load("vigia.yml")
	if err != nil {
		t.Fatalf("vigia config check deploy/vigia.yml: %v", err)
	}
	return cfg
}

func listenPort(t *testing.T, cfg config.Config) int {
	t.Helper()
	_, p, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVigiaConfig(t *testing.T) {
	cfg := loadVigiaConfig(t)
	if h, _, _ := net.SplitHostPort(cfg.Listen); h != "0.0.0.0" && h != "" && h != "::" {
		t.Errorf("deploy/vigia.yml listens on %q: a container or server must listen on every interface", cfg.Listen)
	}
	if cfg.Data != "/var/lib/vigia" {
		t.Errorf("deploy/vigia.yml: data %q, want /var/lib/vigia (the image's VOLUME, the unit's StateDirectory)", cfg.Data)
	}
	if len(cfg.Auth.Tokens) == 0 {
		t.Error("deploy/vigia.yml configures no token: a server listening on every interface must authenticate")
	}
	for i, tok := range cfg.Auth.Tokens {
		if tok.Token != "" || tok.TokenSHA256 != "" {
			t.Errorf("deploy/vigia.yml: auth.tokens[%d] (%s) has its secret in the file; use token_file", i, tok.Name)
		}
		if tok.TokenFile == "" {
			t.Errorf("deploy/vigia.yml: auth.tokens[%d] (%s): want token_file", i, tok.Name)
		}
	}
	if cfg.Log.Format != "json" {
		t.Errorf("deploy/vigia.yml: log.format %q, want json for production", cfg.Log.Format)
	}
}

// --- docker-compose -------------------------------------------------------

// mount is one volume or bind mount of a compose service (short syntax).
type mount struct{ src, target string }

func composeMounts(t *testing.T, svc obj) []mount {
	t.Helper()
	var out []mount
	for _, v := range list(svc, "volumes") {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("volume %v: use the short syntax SRC:TARGET[:MODE]", v)
		}
		parts := strings.Split(s, ":")
		if len(parts) < 2 {
			t.Fatalf("volume %q: want SRC:TARGET", s)
		}
		out = append(out, mount{src: parts[0], target: parts[1]})
	}
	return out
}

// mountSource returns the host path or named volume mounted at target.
func mountSource(ms []mount, target string) string {
	for _, m := range ms {
		if m.target == target {
			return m.src
		}
	}
	return ""
}

func isHostPath(src string) bool { return strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") }

// composeSecrets maps a service's secret targets to their files (relative
// to deploy/).
func composeSecrets(t *testing.T, compose, svc obj) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range list(svc, "secrets") {
		src, target := str(s, "source"), str(s, "target")
		if src == "" {
			if name, ok := s.(string); ok {
				src, target = name, "/run/secrets/"+name
			}
		}
		file := str(compose, "secrets", src, "file")
		if file == "" {
			t.Errorf("secret %q is not declared with a file in the top-level secrets", src)
			continue
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		out[target] = file
	}
	return out
}

func TestCompose(t *testing.T) {
	compose := readYAML(t, "docker-compose.yml")
	cfg := loadVigiaConfig(t)
	port := listenPort(t, cfg)
	services, _ := compose["services"].(obj)
	for _, name := range []string{"vigia", "clickhouse", "prometheus", "alertmanager", "grafana"} {
		if _, ok := services[name].(obj); !ok {
			t.Fatalf("docker-compose.yml: no service %q", name)
		}
	}
	svc := func(name string) obj { return services[name].(obj) }

	// Every host path, secret file and build input exists; every named
	// volume is declared.
	for name := range services {
		for _, m := range composeMounts(t, svc(name)) {
			if isHostPath(m.src) {
				mustExist(t, "service "+name+" mounts", m.src)
			} else if _, ok := get(compose, "volumes").(obj)[m.src]; !ok {
				t.Errorf("service %s: named volume %q is not declared under volumes", name, m.src)
			}
		}
		composeSecrets(t, compose, svc(name))
	}
	for name := range get(compose, "secrets").(obj) {
		mustExist(t, "secret "+name, str(compose, "secrets", name, "file"))
	}
	ctx := str(svc("vigia"), "build", "context")
	mustExist(t, "vigia build context", ctx)
	mustExist(t, "vigia Dockerfile", filepath.Join(ctx, str(svc("vigia"), "build", "dockerfile")))

	// Vigia: its port is the listen port of its config, which is
	// deploy/vigia.yml; its data dir is a volume; its token files are secrets.
	vigia := svc("vigia")
	vm := composeMounts(t, vigia)
	if src := mountSource(vm, "/etc/vigia/vigia.yml"); src != "./vigia.yml" {
		t.Errorf("vigia: /etc/vigia/vigia.yml is mounted from %q, want ./vigia.yml", src)
	}
	if src := mountSource(vm, cfg.Data); src == "" || isHostPath(src) {
		t.Errorf("vigia: the data dir %s is not a named volume (got %q)", cfg.Data, src)
	}
	published := false
	for _, p := range list(vigia, "ports") {
		parts := strings.Split(fmt.Sprint(p), ":")
		if parts[len(parts)-1] == strconv.Itoa(port) {
			published = true
		}
	}
	if !published {
		t.Errorf("vigia: ports %v do not publish the listen port %d of deploy/vigia.yml", list(vigia, "ports"), port)
	}
	vigiaSecrets := composeSecrets(t, compose, vigia)
	ingestFiles := map[string]bool{} // host files of tokens with the ingest role
	for _, tok := range cfg.Auth.Tokens {
		file, ok := vigiaSecrets[tok.TokenFile]
		if !ok {
			t.Errorf("vigia: token %s reads %s, which no secret provides: vigia would not start", tok.Name, tok.TokenFile)
			continue
		}
		if slices.Contains(tok.Roles, auth.RoleIngest) {
			ingestFiles[file] = true
		}
	}
	// The store DSN of the command points at the clickhouse service and its
	// database and user.
	var dsn string
	cmd := list(vigia, "command")
	for i, a := range cmd {
		if a == "--store" && i+1 < len(cmd) {
			dsn = fmt.Sprint(cmd[i+1])
		}
	}
	ch := svc("clickhouse")
	if dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("vigia --store %q: %v", dsn, err)
		}
		pw, _ := u.User.Password()
		if u.Scheme != "clickhouse" || u.Hostname() != "clickhouse" || u.Port() != "9000" ||
			strings.TrimPrefix(u.Path, "/") != str(ch, "environment", "CLICKHOUSE_DB") ||
			u.User.Username() != str(ch, "environment", "CLICKHOUSE_USER") || pw != str(ch, "environment", "CLICKHOUSE_PASSWORD") {
			t.Errorf("vigia --store %s does not match the clickhouse service (host clickhouse:9000, CLICKHOUSE_DB/USER/PASSWORD)", config.Redact(dsn))
		}
	}
	// Shutdown: compose waits longer than vigia's shutdown timeout.
	if g, err := time.ParseDuration(str(vigia, "stop_grace_period")); err != nil || g <= time.Duration(cfg.Server.ShutdownTimeout) {
		t.Errorf("vigia: stop_grace_period %q must exceed server.shutdown_timeout %v", str(vigia, "stop_grace_period"), cfg.Server.ShutdownTimeout)
	}

	// Alertmanager: its configuration sends to the vigia service on the
	// listen port with send_resolved, with a token Vigia accepts for ingest.
	am := svc("alertmanager")
	amMounts := composeMounts(t, am)
	amFile := mountSource(amMounts, "/etc/alertmanager/alertmanager.yml")
	if amFile == "" {
		t.Fatal("alertmanager: nothing mounted at /etc/alertmanager/alertmanager.yml")
	}
	amCfg, err := amconfig.LoadFile(amFile)
	if err != nil {
		t.Fatalf("alertmanager: %s: %v", amFile, err)
	}
	amSecrets := composeSecrets(t, compose, am)
	hooks := 0
	for _, r := range amCfg.Receivers {
		for _, w := range r.WebhookConfigs {
			hooks++
			u := string(w.URL)
			if w.URLFile != "" {
				t.Errorf("alertmanager receiver %s: url_file; want url", r.Name)
			}
			checkVigiaURL(t, "alertmanager receiver "+r.Name, u, "vigia", port, "/api/v1/ingest/alertmanager")
			if !w.SendResolved() {
				t.Errorf("alertmanager receiver %s: send_resolved is off: incidents would never resolve", r.Name)
			}
			if w.MaxAlerts != 0 {
				t.Errorf("alertmanager receiver %s: max_alerts %d truncates groups; want 0", r.Name, w.MaxAlerts)
			}
			a := w.HTTPConfig.Authorization
			if a == nil || a.CredentialsFile == "" {
				t.Errorf("alertmanager receiver %s: no authorization.credentials_file", r.Name)
				continue
			}
			if f := amSecrets[a.CredentialsFile]; !ingestFiles[f] {
				t.Errorf("alertmanager receiver %s: credentials_file %s is %q, not the file of a Vigia token with the ingest role", r.Name, a.CredentialsFile, f)
			}
		}
	}
	if hooks == 0 {
		t.Errorf("alertmanager: %s has no webhook receiver", amFile)
	}

	// Prometheus: rule files are mounted, vigia and itself are scraped, and
	// alerts go to the alertmanager service.
	prom := svc("prometheus")
	pm := composeMounts(t, prom)
	promFile := ""
	for _, a := range list(prom, "command") {
		if s, ok := strings.CutPrefix(fmt.Sprint(a), "--config.file="); ok {
			promFile = mountSource(pm, s)
		}
	}
	if promFile == "" {
		t.Fatal("prometheus: --config.file is not a mounted file")
	}
	if !slices.Contains(list(prom, "command"), any("--web.enable-lifecycle")) {
		t.Error("prometheus: --web.enable-lifecycle is off (POST /-/reload)")
	}
	pc := readYAML(t, promFile)
	for _, rf := range list(pc, "rule_files") {
		if src := mountSource(pm, fmt.Sprint(rf)); src == "" {
			t.Errorf("prometheus: rule file %v is not mounted", rf)
		}
	}
	targets := map[string][]string{}
	for _, sc := range list(pc, "scrape_configs") {
		for _, st := range list(sc, "static_configs") {
			for _, tg := range list(st, "targets") {
				targets[str(sc, "job_name")] = append(targets[str(sc, "job_name")], fmt.Sprint(tg))
			}
		}
	}
	if want := fmt.Sprintf("vigia:%d", port); !slices.Contains(targets["vigia"], want) {
		t.Errorf("prometheus: job vigia scrapes %v, want %s", targets["vigia"], want)
	}
	if len(targets["prometheus"]) == 0 {
		t.Error("prometheus: does not scrape itself")
	}
	amTarget := str(pc, "alerting", "alertmanagers", 0, "static_configs", 0, "targets", 0)
	if amTarget != "alertmanager:9093" {
		t.Errorf("prometheus: alertmanager target %q, want alertmanager:9093", amTarget)
	}
	demo := false
	for _, rf := range list(pc, "rule_files") {
		src := mountSource(pm, fmt.Sprint(rf))
		for _, g := range list(readYAML(t, src), "groups") {
			for _, r := range list(g, "rules") {
				if str(r, "expr") == "vector(1)" && str(r, "alert") != "" {
					demo = true
				}
			}
		}
	}
	if !demo {
		t.Error("prometheus: no always-firing demo rule (expr: vector(1))")
	}

	// Grafana: the ClickHouse data source points at the clickhouse service,
	// the dashboards provider at the mounted dashboards, and the contact
	// point at vigia with a token Vigia accepts for ingest.
	gf := svc("grafana")
	gm := composeMounts(t, gf)
	if !strings.Contains(str(gf, "environment", "GF_PLUGINS_PREINSTALL")+str(gf, "environment", "GF_INSTALL_PLUGINS"), "grafana-clickhouse-datasource") {
		t.Error("grafana: the grafana-clickhouse-datasource plugin is not installed")
	}
	var dsFile, dashFile, cpFile string
	for _, m := range gm {
		switch {
		case strings.HasPrefix(m.target, "/etc/grafana/provisioning/datasources/"):
			dsFile = m.src
		case strings.HasPrefix(m.target, "/etc/grafana/provisioning/dashboards/"):
			dashFile = m.src
		case strings.HasPrefix(m.target, "/etc/grafana/provisioning/alerting/"):
			cpFile = m.src
		}
	}
	if dsFile == "" || dashFile == "" || cpFile == "" {
		t.Fatalf("grafana: provisioning files missing: datasources %q, dashboards %q, alerting %q", dsFile, dashFile, cpFile)
	}
	ds := get(readYAML(t, dsFile), "datasources", 0)
	if str(ds, "type") != "grafana-clickhouse-datasource" || str(ds, "jsonData", "host") != "clickhouse" ||
		str(ds, "jsonData", "port") != "9000" || str(ds, "jsonData", "defaultDatabase") != str(ch, "environment", "CLICKHOUSE_DB") ||
		str(ds, "jsonData", "username") != str(ch, "environment", "CLICKHOUSE_USER") {
		t.Errorf("grafana: data source %v does not point at the clickhouse service's database and user", ds)
	}
	dashPath := str(readYAML(t, dashFile), "providers", 0, "options", "path")
	if src := mountSource(gm, dashPath); src != "../dashboards/grafana" {
		t.Errorf("grafana: the dashboards provider reads %s, where %q is mounted; want ../dashboards/grafana", dashPath, src)
	}
	if cpFile != "./grafana/contact-point.yml" {
		t.Errorf("grafana: contact point from %s, want ./grafana/contact-point.yml", cpFile)
	}
	cp := get(readYAML(t, cpFile), "contactPoints", 0, "receivers", 0)
	checkVigiaURL(t, "grafana contact point", str(cp, "settings", "url"), "vigia", port, "/api/v1/ingest/grafana")
	cred := str(cp, "settings", "authorization_credentials")
	m := regexp.MustCompile(`^\$__file\{(.+)\}$`).FindStringSubmatch(cred)
	if m == nil {
		t.Errorf("grafana contact point: authorization_credentials %q; want $__file{PATH}", cred)
	} else if f := composeSecrets(t, compose, gf)[m[1]]; !ingestFiles[f] {
		t.Errorf("grafana contact point: %s is %q, not the file of a Vigia token with the ingest role", m[1], f)
	}
}

// checkVigiaURL checks that u is http://HOST:PORT/PATH.
func checkVigiaURL(t *testing.T, what, u, host string, port int, p string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Errorf("%s: url %q: %v", what, u, err)
		return
	}
	if pu.Hostname() != host || pu.Port() != strconv.Itoa(port) || pu.Path != p {
		t.Errorf("%s: url %s, want http://%s:%d%s", what, u, host, port, p)
	}
}

// --- Dockerfile -------------------------------------------------------------

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadVigiaConfig(t)
	var froms, users []string
	var expose, volume, entrypoint string
	goVersion := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rest := strings.Join(f[1:], " ")
		switch strings.ToUpper(f[0]) {
		case "ARG":
			if v, ok := strings.CutPrefix(f[1], "GO_VERSION="); ok {
				goVersion = v
			}
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			users = append(users, f[1])
		case "EXPOSE":
			expose = rest
		case "VOLUME":
			volume = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "COPY":
			// Sources in the build context (the repository root) exist.
			if !strings.HasPrefix(f[1], "--from") {
				for _, src := range f[1 : len(f)-1] {
					if !strings.HasPrefix(src, "--") {
						mustExist(t, "Dockerfile COPY", filepath.Join("..", src))
					}
				}
			}
		}
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil || goVersion != string(m[1]) {
		t.Errorf("Dockerfile: ARG GO_VERSION=%s, want the go directive of go.mod (%s)", goVersion, m[1])
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:") {
		t.Errorf("Dockerfile: FROM %v; want a golang builder and a runtime stage", froms)
	}
	final := froms[len(froms)-1]
	if !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("Dockerfile: final stage %q; want distroless/static or scratch", final)
	}
	if len(users) == 0 || users[len(users)-1] == "0" || strings.HasPrefix(users[len(users)-1], "root") || strings.HasPrefix(users[len(users)-1], "0:") {
		t.Errorf("Dockerfile: USER %v; want a non-root user", users)
	}
	if !bytes.Contains(b, []byte("CGO_ENABLED=0")) || !bytes.Contains(b, []byte("-trimpath")) || !bytes.Contains(b, []byte("-X main.version=")) {
		t.Error("Dockerfile: want a static build: CGO_ENABLED=0, -trimpath, -ldflags -X main.version=")
	}
	if expose != strconv.Itoa(listenPort(t, cfg)) {
		t.Errorf("Dockerfile: EXPOSE %q, want the listen port of deploy/vigia.yml (%d)", expose, listenPort(t, cfg))
	}
	if volume != cfg.Data {
		t.Errorf("Dockerfile: VOLUME %q, want the data dir of deploy/vigia.yml (%s)", volume, cfg.Data)
	}
	if !strings.Contains(entrypoint, `"serve", "--config", "/etc/vigia/vigia.yml"`) {
		t.Errorf("Dockerfile: ENTRYPOINT %s; want vigia serve --config /etc/vigia/vigia.yml", entrypoint)
	}
}

// --- Kubernetes ---------------------------------------------------------------

type k8sObjects struct {
	byKind map[string][]obj
}

func (k k8sObjects) one(t *testing.T, kind, name string) obj {
	t.Helper()
	for _, o := range k.byKind[kind] {
		if name == "" || str(o, "metadata", "name") == name {
			return o
		}
	}
	t.Fatalf("kubernetes: no %s %q", kind, name)
	return nil
}

func loadKubernetes(t *testing.T) k8sObjects {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	k := k8sObjects{byKind: map[string][]obj{}}
	for _, f := range files {
		for i, d := range readYAMLDocs(t, f) {
			kind, api, name := str(d, "kind"), str(d, "apiVersion"), str(d, "metadata", "name")
			if kind == "Kustomization" {
				for _, r := range list(d, "resources") {
					mustExist(t, f+" resources", filepath.Join("kubernetes", fmt.Sprint(r)))
				}
				continue
			}
			if kind == "" || api == "" || name == "" {
				t.Errorf("%s document %d: apiVersion %q, kind %q, metadata.name %q: all are required", f, i+1, api, kind, name)
			}
			k.byKind[kind] = append(k.byKind[kind], d)
		}
	}
	return k
}

// containerPort resolves a port (number or name) of a container.
func containerPort(c any, port any) int {
	for _, p := range list(c, "ports") {
		if n, ok := port.(int); ok && get(p, "containerPort") == n {
			return n
		}
		if name, ok := port.(string); ok && str(p, "name") == name {
			n, _ := get(p, "containerPort").(int)
			return n
		}
	}
	return 0
}

func TestKubernetes(t *testing.T) {
	k := loadKubernetes(t)
	sts := k.one(t, "StatefulSet", "vigia")
	spec := get(sts, "spec", "template", "spec")
	var c any
	for _, x := range list(spec, "containers") {
		if str(x, "name") == "vigia" {
			c = x
		}
	}
	if c == nil {
		t.Fatal("StatefulSet vigia: no container vigia")
	}

	// The configuration: the ConfigMap's vigia.yml, mounted at the path the
	// image reads, is accepted by `vigia config check`.
	cmName := ""
	volumes := map[string]any{}
	for _, v := range list(spec, "volumes") {
		volumes[str(v, "name")] = v
	}
	mounts := map[string]any{} // mountPath -> volumeMount
	for _, m := range list(c, "volumeMounts") {
		mounts[str(m, "mountPath")] = m
		if _, ok := volumes[str(m, "name")]; !ok && !slices.ContainsFunc(list(sts, "spec", "volumeClaimTemplates"), func(v any) bool { return str(v, "metadata", "name") == str(m, "name") }) {
			t.Errorf("volumeMount %s: no volume or volumeClaimTemplate %q", str(m, "mountPath"), str(m, "name"))
		}
	}
	cfgMount := mounts["/etc/vigia/vigia.yml"]
	if cfgMount == nil {
		t.Fatal("StatefulSet vigia: nothing mounted at /etc/vigia/vigia.yml")
	}
	cmName = str(volumes[str(cfgMount, "name")], "configMap", "name")
	cm := k.one(t, "ConfigMap", cmName)
	key := str(cfgMount, "subPath")
	text := str(cm, "data", key)
	if text == "" {
		t.Fatalf("ConfigMap %s has no key %q", cmName, key)
	}
	cfg, err := config.Parse([]byte(text))
	if err != nil {
		t.Fatalf("ConfigMap %s %s: vigia config check: %v", cmName, key, err)
	}
	port := listenPort(t, cfg)
	if !reflect.DeepEqual(cfg, loadVigiaConfig(t)) {
		t.Errorf("ConfigMap %s %s differs from deploy/vigia.yml: keep the copy in step", cmName, key)
	}

	// Ports: the container port is the config's listen port; the Services
	// send to it; the probes ask /healthz and /readyz on it.
	if containerPort(c, port) != port {
		t.Errorf("container vigia: no containerPort %d (the ConfigMap's listen port)", port)
	}
	podLabels, _ := get(sts, "spec", "template", "metadata", "labels").(obj)
	for _, svc := range k.byKind["Service"] {
		for _, p := range list(svc, "spec", "ports") {
			if got := containerPort(c, get(p, "targetPort")); got != port {
				t.Errorf("Service %s: targetPort %v is container port %d, want %d", str(svc, "metadata", "name"), get(p, "targetPort"), got, port)
			}
		}
		for lk, lv := range get(svc, "spec", "selector").(obj) {
			if podLabels[lk] != lv {
				t.Errorf("Service %s: selector %s=%v does not match the pod's labels %v", str(svc, "metadata", "name"), lk, lv, podLabels)
			}
		}
	}
	headless := k.one(t, "Service", str(sts, "spec", "serviceName"))
	if str(headless, "spec", "clusterIP") != "None" {
		t.Errorf("StatefulSet serviceName %s is not a headless Service", str(headless, "metadata", "name"))
	}
	for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		p := get(c, probe, "httpGet")
		if p == nil {
			t.Errorf("container vigia: no %s.httpGet", probe)
			continue
		}
		if str(p, "path") != want {
			t.Errorf("container vigia: %s path %q, want %s", probe, str(p, "path"), want)
		}
		if got := containerPort(c, get(p, "port")); got != port {
			t.Errorf("container vigia: %s port %v is %d, want %d", probe, get(p, "port"), got, port)
		}
	}

	// The data dir is a persistent volume.
	dm := mounts[cfg.Data]
	if dm == nil {
		t.Errorf("container vigia: nothing mounted at the data dir %s", cfg.Data)
	} else if !slices.ContainsFunc(list(sts, "spec", "volumeClaimTemplates"), func(v any) bool { return str(v, "metadata", "name") == str(dm, "name") }) {
		t.Errorf("container vigia: the data dir %s is volume %q, not a volumeClaimTemplate (PVC)", cfg.Data, str(dm, "name"))
	}
	if r := get(sts, "spec", "replicas"); r != 1 {
		t.Errorf("StatefulSet vigia: replicas %v; the data dir is locked by one process, want 1", r)
	}

	// Every token file is a key of the Secret mounted at its directory.
	for _, tok := range cfg.Auth.Tokens {
		if tok.TokenFile == "" {
			t.Errorf("ConfigMap %s: token %s does not come from a file", cmName, tok.Name)
			continue
		}
		dir, file := path.Split(tok.TokenFile)
		m := mounts[strings.TrimSuffix(dir, "/")]
		secretName := str(volumes[str(m, "name")], "secret", "secretName")
		if secretName == "" {
			t.Errorf("token %s: %s is not in a mounted Secret", tok.Name, tok.TokenFile)
			continue
		}
		sec := k.one(t, "Secret", secretName)
		if get(sec, "stringData", file) == nil && get(sec, "data", file) == nil {
			t.Errorf("token %s: Secret %s has no key %q", tok.Name, secretName, file)
		}
	}

	// Security and resources.
	psc, csc := get(spec, "securityContext"), get(c, "securityContext")
	if get(psc, "runAsNonRoot") != true && get(csc, "runAsNonRoot") != true {
		t.Error("StatefulSet vigia: runAsNonRoot is not set")
	}
	if get(csc, "readOnlyRootFilesystem") != true {
		t.Error("container vigia: readOnlyRootFilesystem is not true")
	}
	if get(csc, "allowPrivilegeEscalation") != false {
		t.Error("container vigia: allowPrivilegeEscalation is not false")
	}
	if str(c, "resources", "requests", "cpu") == "" || str(c, "resources", "requests", "memory") == "" {
		t.Error("container vigia: no cpu and memory requests")
	}
	grace, _ := get(spec, "terminationGracePeriodSeconds").(int)
	if time.Duration(grace)*time.Second <= time.Duration(cfg.Server.ShutdownTimeout) {
		t.Errorf("terminationGracePeriodSeconds %d must exceed server.shutdown_timeout %v", grace, cfg.Server.ShutdownTimeout)
	}
}

// --- systemd -----------------------------------------------------------------

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/vigia.service")
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadVigiaConfig(t)
	unit := map[string][]string{} // "Section.Key" -> values
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("systemd/vigia.service:%d: %q is not KEY=VALUE in a section", i+1, line)
			}
			unit[section+"."+k] = append(unit[section+"."+k], v)
		}
	}
	want := map[string]string{
		"Service.KillSignal":      "SIGTERM",
		"Service.Restart":         "on-failure",
		"Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem":   "strict",
		"Service.StateDirectory":  strings.TrimPrefix(cfg.Data, "/var/lib/"),
		"Install.WantedBy":        "multi-user.target",
	}
	for k, v := range want {
		if got := unit[k]; len(got) != 1 || got[0] != v {
			t.Errorf("systemd/vigia.service: %s=%v, want %s", k, got, v)
		}
	}
	if u := unit["Service.User"]; unit["Service.DynamicUser"] == nil && (len(u) == 0 || u[0] == "root" || u[0] == "0") {
		t.Errorf("systemd/vigia.service: User=%v and no DynamicUser: want a non-root user", u)
	}
	exec := strings.Join(unit["Service.ExecStart"], " ")
	if !strings.Contains(exec, "vigia serve --config /etc/vigia/vigia.yml") {
		t.Errorf("systemd/vigia.service: ExecStart=%s; want vigia serve --config /etc/vigia/vigia.yml", exec)
	}
	stop, err := time.ParseDuration(strings.Join(unit["Service.TimeoutStopSec"], ""))
	if err != nil || stop <= time.Duration(cfg.Server.ShutdownTimeout) {
		t.Errorf("systemd/vigia.service: TimeoutStopSec=%v must exceed server.shutdown_timeout %v", unit["Service.TimeoutStopSec"], cfg.Server.ShutdownTimeout)
	}
}

// --- Prometheus rules ---------------------------------------------------------

// TestPrometheusRules checks the structure of the alerting rules. PromQL is
// checked by promtool in scripts/e2e-prometheus.sh (Prometheus' parser is
// not a dependency of this module), and the metric names by
// e2e.TestMetricsNamedInRulesExist against a real /metrics.
func TestPrometheusRules(t *testing.T) {
	for _, file := range []string{"prometheus/vigia-rules.yml", "prometheus/demo-rules.yml"} {
		rf := readYAML(t, file)
		names := map[string]bool{}
		n := 0
		for _, g := range list(rf, "groups") {
			if str(g, "name") == "" {
				t.Errorf("%s: a group has no name", file)
			}
			for _, r := range list(g, "rules") {
				n++
				name := str(r, "alert")
				if name == "" || str(r, "expr") == "" {
					t.Errorf("%s: rule %v: want alert and expr", file, r)
					continue
				}
				if names[name] {
					t.Errorf("%s: alert %s defined twice", file, name)
				}
				names[name] = true
				if sev := str(r, "labels", "severity"); sev != "critical" && sev != "warning" {
					t.Errorf("%s: alert %s: severity %q, want critical or warning", file, name, sev)
				}
				if str(r, "annotations", "summary") == "" {
					t.Errorf("%s: alert %s: no summary annotation", file, name)
				}
				if f := str(r, "for"); f != "" {
					if _, err := time.ParseDuration(f); err != nil {
						t.Errorf("%s: alert %s: for %q: %v", file, name, f, err)
					}
				}
				for k := range r.(obj) {
					if !slices.Contains([]string{"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, k) {
						t.Errorf("%s: alert %s: unknown key %q", file, name, k)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no rules", file)
		}
	}
	tf := readYAML(t, "prometheus/vigia-rules.test.yml")
	for _, f := range list(tf, "rule_files") {
		mustExist(t, "vigia-rules.test.yml rule_files", filepath.Join("prometheus", fmt.Sprint(f)))
	}
}

// TestAlertmanagerReceiver checks the receiver snippet with Alertmanager's
// own configuration loader.
func TestAlertmanagerReceiver(t *testing.T) {
	if _, err := amconfig.LoadFile("alertmanager/vigia-receiver.yml"); err != nil {
		t.Fatalf("alertmanager/vigia-receiver.yml: %v", err)
	}
}

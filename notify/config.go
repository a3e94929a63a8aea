package notify

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// Config configures outbound webhooks (the "notify" key of the YAML config).
// The delivery settings at the top are the defaults of every receiver.
type Config struct {
	// QueueCapacity bounds each receiver's queue; when it is full new
	// events for that receiver are dropped and counted.
	QueueCapacity int `yaml:"queue_capacity" json:"queue_capacity"`
	// Workers is the number of deliveries in flight per receiver. With 1
	// (the default) a receiver gets its events in order.
	Workers int `yaml:"workers" json:"workers"`
	// Timeout bounds each HTTP attempt.
	Timeout incident.Duration `yaml:"timeout" json:"timeout"`
	// MaxRetries is the number of retries after the first attempt, on
	// network errors, 429 and 5xx.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// Backoff is the wait before the first retry; it doubles up to MaxBackoff.
	// A Retry-After header may lengthen it, never past MaxBackoff.
	Backoff    incident.Duration `yaml:"backoff" json:"backoff"`
	MaxBackoff incident.Duration `yaml:"max_backoff" json:"max_backoff"`

	Receivers []ReceiverConfig `yaml:"receivers" json:"receivers,omitempty"`
}

// ReceiverConfig is one webhook receiver. Zero delivery settings take the
// defaults of Config.
type ReceiverConfig struct {
	// Name identifies the receiver in logs and metrics: letters, digits, _ . -
	Name string `yaml:"name" json:"name"`
	// URL is the http or https endpoint that receives a POST per event.
	URL string `yaml:"url" json:"url"`
	// Events filters by event kind (see incident.EventKinds); empty is all.
	Events []string `yaml:"events" json:"events,omitempty"`
	// Priorities filters by incident priority; empty is all.
	Priorities []incident.Priority `yaml:"priorities" json:"priorities,omitempty"`
	// Body is a Go text/template over Event (with the func json); empty
	// sends the event as JSON.
	Body string `yaml:"body" json:"body,omitempty"`
	// ContentType defaults to application/json.
	ContentType string `yaml:"content_type" json:"content_type,omitempty"`
	// The HMAC secret, at most one of: the value, an environment variable
	// holding it, a file holding it (a trailing newline is ignored). Without
	// a secret no signature is sent.
	Secret     string `yaml:"secret" json:"-"`
	SecretEnv  string `yaml:"secret_env" json:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file" json:"secret_file,omitempty"`
	// Headers are added to every request; they cannot replace X-Vigia-*.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`

	Timeout incident.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// MaxRetries: nil takes Config.MaxRetries; 0 never retries.
	MaxRetries    *int              `yaml:"max_retries" json:"max_retries,omitempty"`
	Backoff       incident.Duration `yaml:"backoff" json:"backoff,omitempty"`
	MaxBackoff    incident.Duration `yaml:"max_backoff" json:"max_backoff,omitempty"`
	QueueCapacity int               `yaml:"queue_capacity" json:"queue_capacity,omitempty"`
	Workers       int               `yaml:"workers" json:"workers,omitempty"`
}

// DefaultConfig returns the defaults: no receivers.
func DefaultConfig() Config {
	return Config{
		QueueCapacity: 1000,
		Workers:       1,
		Timeout:       incident.Duration(10 * time.Second),
		MaxRetries:    5,
		Backoff:       incident.Duration(time.Second),
		MaxBackoff:    incident.Duration(time.Minute),
	}
}

// Validate checks the configuration; errors name the key, e.g.
// "notify.receivers[0].url: ...". It does not read secrets (New does).
func (c *Config) Validate() error {
	_, err := c.receivers()
	return err
}

// receiver is a ReceiverConfig with the defaults applied and the template
// compiled; the secret is resolved by New.
type receiver struct {
	name        string
	url         string
	events      map[string]bool
	priorities  []incident.Priority
	body        *template.Template
	contentType string
	secret      []byte
	headers     http.Header
	timeout     time.Duration
	maxRetries  int
	backoff     time.Duration
	maxBackoff  time.Duration
	capacity    int
	workers     int
	queue       chan *delivery
}

var reservedHeaders = []string{"Content-Length", "Host", "Transfer-Encoding", "Connection"}

// templateFuncs are the functions a body template may call besides the
// text/template built-ins: json (the JSON encoding of a value).
var templateFuncs = template.FuncMap{"json": toJSON}

func (c *Config) receivers() ([]*receiver, error) {
	if err := c.checkDefaults(); err != nil {
		return nil, err
	}
	known := incident.EventKinds()
	seen := map[string]bool{}
	var out []*receiver
	for i, rc := range c.Receivers {
		key := fmt.Sprintf("notify.receivers[%d]", i)
		if !validName(rc.Name) {
			return nil, fmt.Errorf("%s.name: %q must be letters, digits, _ . or -", key, rc.Name)
		}
		if seen[rc.Name] {
			return nil, fmt.Errorf("%s.name: duplicate receiver %q", key, rc.Name)
		}
		seen[rc.Name] = true
		u, err := url.Parse(rc.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s.url: %q must be an absolute http or https URL", key, rc.URL)
		}
		r := &receiver{
			name: rc.Name, url: rc.URL, events: map[string]bool{}, priorities: rc.Priorities,
			contentType: rc.ContentType, headers: http.Header{},
			timeout: time.Duration(c.Timeout), maxRetries: c.MaxRetries, backoff: time.Duration(c.Backoff),
			maxBackoff: time.Duration(c.MaxBackoff), capacity: c.QueueCapacity, workers: c.Workers,
		}
		for j, e := range rc.Events {
			if !slices.Contains(known, e) {
				return nil, fmt.Errorf("%s.events[%d]: unknown event %q, want one of %s", key, j, e, strings.Join(known, ", "))
			}
			r.events[e] = true
		}
		for j, p := range rc.Priorities {
			if p < incident.P1 || p > incident.P5 {
				return nil, fmt.Errorf("%s.priorities[%d]: must be P1..P5", key, j)
			}
		}
		if rc.Body != "" {
			if r.body, err = template.New(rc.Name).Funcs(templateFuncs).Option("missingkey=zero").Parse(rc.Body); err != nil {
				return nil, fmt.Errorf("%s.body: %w", key, err)
			}
		}
		if r.contentType == "" {
			r.contentType = "application/json"
		}
		n := 0
		for _, s := range []string{rc.Secret, rc.SecretEnv, rc.SecretFile} {
			if s != "" {
				n++
			}
		}
		if n > 1 {
			return nil, fmt.Errorf("%s: set at most one of secret, secret_env and secret_file", key)
		}
		for name, v := range rc.Headers {
			canon := http.CanonicalHeaderKey(name)
			switch {
			case !validHeaderName(name):
				return nil, fmt.Errorf("%s.headers.%s: invalid header name", key, name)
			case strings.HasPrefix(canon, "X-Vigia-") || slices.Contains(reservedHeaders, canon):
				return nil, fmt.Errorf("%s.headers.%s: reserved header", key, name)
			case strings.ContainsAny(v, "\r\n"):
				return nil, fmt.Errorf("%s.headers.%s: value must be one line", key, name)
			}
			r.headers.Set(canon, v)
		}
		if rc.Timeout != 0 {
			r.timeout = time.Duration(rc.Timeout)
		}
		if rc.MaxRetries != nil {
			r.maxRetries = *rc.MaxRetries
		}
		if rc.Backoff != 0 {
			r.backoff = time.Duration(rc.Backoff)
		}
		if rc.MaxBackoff != 0 {
			r.maxBackoff = time.Duration(rc.MaxBackoff)
		}
		if rc.QueueCapacity != 0 {
			r.capacity = rc.QueueCapacity
		}
		if rc.Workers != 0 {
			r.workers = rc.Workers
		}
		switch {
		case r.timeout <= 0:
			return nil, fmt.Errorf("%s.timeout: must be positive", key)
		case r.maxRetries < 0 || r.maxRetries > 100:
			return nil, fmt.Errorf("%s.max_retries: must be 0..100", key)
		case r.backoff <= 0:
			return nil, fmt.Errorf("%s.backoff: must be positive", key)
		case r.maxBackoff < r.backoff:
			return nil, fmt.Errorf("%s.max_backoff: must be at least backoff (%s)", key, r.backoff)
		case r.capacity <= 0:
			return nil, fmt.Errorf("%s.queue_capacity: must be positive", key)
		case r.workers <= 0 || r.workers > 64:
			return nil, fmt.Errorf("%s.workers: must be 1..64", key)
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *Config) checkDefaults() error {
	switch {
	case c.QueueCapacity <= 0:
		return errors.New("notify.queue_capacity: must be positive")
	case c.Workers <= 0 || c.Workers > 64:
		return errors.New("notify.workers: must be 1..64")
	case c.Timeout <= 0:
		return errors.New("notify.timeout: must be positive")
	case c.MaxRetries < 0 || c.MaxRetries > 100:
		return errors.New("notify.max_retries: must be 0..100")
	case c.Backoff <= 0:
		return errors.New("notify.backoff: must be positive")
	case c.MaxBackoff < c.Backoff:
		return errors.New("notify.max_backoff: must be at least notify.backoff")
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, b := range []byte(s) {
		if !(b == '_' || b == '-' || b == '.' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) {
			return false
		}
	}
	return true
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, b := range []byte(s) {
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, b) >= 0 {
			return false
		}
	}
	return true
}

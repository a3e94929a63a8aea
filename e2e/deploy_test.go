package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigCheck runs `vigia config check` on the production example of
// deploy/ (accepted) and on broken files (refused, with one line on stderr
// naming the file, the line and the key).
func TestConfigCheck(t *testing.T) {
	good := filepath.Join(repoRoot, "deploy", "vigia.yml")
	if out := mustRunVigia(t, "", "config", "check", good); !strings.Contains(out, "OK") {
		t.Errorf("vigia config check %s: stdout %q, want OK", good, out)
	}
	for _, c := range []struct{ file, want string }{
		{"conf.bad.unknown-key.yml", "line 4: server.read_timout: unknown key"},
		{"conf.bad.matcher.yml", "line 6: correlate.rules[0].matchers[1]: "},
		{"conf.bad.token.yml", "line 8: auth.tokens[1].token_file: conflicts with token_env"},
	} {
		path := filepath.Join(repoRoot, "config", "testdata", c.file)
		stdout, stderr, err := runVigia(t, "", "config", "check", path)
		if !isExitError(err) {
			t.Errorf("vigia config check %s: %v, want a non-zero exit", c.file, err)
			continue
		}
		msg := strings.TrimSpace(stderr)
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, path) || !strings.Contains(msg, c.want) {
			t.Errorf("vigia config check %s: stderr %q, want one line naming the file and %q (stdout %q)", c.file, msg, c.want, stdout)
		}
	}
}

// TestServeTLS: with server.tls_cert_file and server.tls_key_file, vigia
// serve speaks HTTPS (HTTP/2 offered) and only HTTPS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile := writeFile(t, dir, "tls.crt", string(certPEM))
	keyFile := writeFile(t, dir, "tls.key", string(keyPEM))
	cfg := writeFile(t, dir, "vigia.yml", "server:\n  tls_cert_file: "+certFile+"\n  tls_key_file: "+keyFile+"\n")
	addr := freeAddr(t)
	p := startProc(t, "vigia serve (tls)", vigiaBin, "serve", "--listen", addr, "--data", filepath.Join(dir, "data"), "--config", cfg)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
	}}
	var proto string
	eventually(t, readyTimeout, "GET https://…/readyz = 200", func() (bool, string) {
		if p.exited() {
			t.Fatalf("vigia exited: %v", p.waitErr)
		}
		resp, err := client.Get("https://" + addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		proto = resp.Proto
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	if proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0 offered over TLS", proto)
	}
	body := `{"events":[{"source":"tls-probe","status":"firing","severity":"info","summary":"over TLS","labels":{"host":"h1"},"starts_at":"2026-01-05T10:00:00Z"}]}`
	resp, err := client.Post("https://"+addr+"/api/v1/ingest/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST over TLS: status %d, want 202", resp.StatusCode)
	}
	// Plain HTTP gets no answer a client could mistake for success.
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP GET /healthz answered 200 on a TLS listener")
		}
	}
	p.term()
}

// selfSigned returns a certificate for 127.0.0.1 and its key, PEM-encoded.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "vigia e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

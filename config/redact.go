package config

import "regexp"

// userinfoPassword matches the password of a URL's userinfo
// ("clickhouse://user:password@host"), wherever it appears in a string.
var userinfoPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s"]*):[^@/\s"]*@`)

// Redact hides the passwords of URLs and DSNs in s (the store DSN, or an
// error that quotes it), so that it can be logged or shown:
// "clickhouse://vigia:s3cret@ch:9000/vigia" becomes
// "clickhouse://vigia:xxxxx@ch:9000/vigia".
func Redact(s string) string {
	return userinfoPassword.ReplaceAllString(s, "${1}:xxxxx@")
}

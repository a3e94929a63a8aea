// Package api serves the analyst API of contract §6 over gin: incident
// lists and details with the explanation of every membership. Handlers
// read from the store through the narrow interfaces declared here and are
// safe for concurrent use.
package api

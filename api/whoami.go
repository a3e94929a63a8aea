package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
)

// WhoAmI is the reply of GET /api/v1/whoami: who the caller is, and the
// workflow settings a client needs to build its forms (the configured
// reject reasons and closure codes, the SLA targets).
type WhoAmI struct {
	// Name is the token holder's name ("anonymous" with authentication off).
	Name string `json:"name"`
	// Roles are the roles the token grants, as configured.
	Roles []auth.Role `json:"roles"`
	// AuthEnabled is false when no token is configured: every request
	// passes as "anonymous" with every role.
	AuthEnabled bool         `json:"auth_enabled"`
	Workflow    WorkflowInfo `json:"workflow"`
}

// WorkflowInfo is the part of the workflow configuration clients need.
type WorkflowInfo struct {
	RejectReasons       []string `json:"reject_reasons"`
	ClosureCodes        []string `json:"closure_codes"`
	ProblemClosureCodes []string `json:"problem_closure_codes"`
	SupportLevels       []string `json:"support_levels"`
	SLA                 SLAInfo  `json:"sla"`
}

// SLAInfo are the SLA targets: one policy per priority and the major
// policy, with the at-risk share and calendar resolved.
type SLAInfo struct {
	Policies map[string]incident.Policy `json:"policies"`
	Major    incident.Policy            `json:"major"`
}

// RegisterWhoAmI mounts GET /api/v1/whoami for any valid token.
func (a *API) RegisterWhoAmI(r gin.IRouter, cfg incident.Config) {
	info := workflowInfo(cfg)
	r.GET("/api/v1/whoami", a.auth.Require(), func(c *gin.Context) {
		id := auth.IdentityFrom(c.Request.Context())
		roles := slices.Clone(id.Roles)
		if roles == nil {
			roles = []auth.Role{}
		}
		c.JSON(http.StatusOK, WhoAmI{Name: id.Name, Roles: roles, AuthEnabled: a.auth.Enabled(), Workflow: info})
	})
}

func workflowInfo(cfg incident.Config) WorkflowInfo {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return slices.Clone(s)
	}
	w := WorkflowInfo{
		RejectReasons: nonNil(cfg.RejectReasons),
		ClosureCodes:  nonNil(cfg.ClosureCodes),
		SLA:           SLAInfo{Policies: map[string]incident.Policy{}},
	}
	for _, c := range problem.ClosureCodes() {
		w.ProblemClosureCodes = append(w.ProblemClosureCodes, string(c))
	}
	for _, l := range incident.SupportLevels() {
		w.SupportLevels = append(w.SupportLevels, l.String())
	}
	resolve := func(p incident.Policy) incident.Policy {
		if p.AtRisk == 0 {
			p.AtRisk = cfg.SLA.AtRisk
		}
		if p.Calendar == "" {
			p.Calendar = cfg.SLA.DefaultCalendar
		}
		return p
	}
	for k, p := range cfg.SLA.Policies {
		w.SLA.Policies[k] = resolve(p)
	}
	w.SLA.Major = resolve(cfg.SLA.Major)
	return w
}

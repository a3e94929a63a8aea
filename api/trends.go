package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/trend"
)

// TrendSource is what the trend endpoint reads from a store: the rows of
// a time range, from which package trend computes every figure.
type TrendSource interface {
	// TrendIncidents returns every incident opened before to that is
	// still open or has a moment at or after from (more is allowed).
	TrendIncidents(ctx context.Context, from, to time.Time) ([]trend.IncidentRow, error)
	// TrendActivity returns the engine's counts per UTC day in [from, to).
	TrendActivity(ctx context.Context, from, to time.Time) (trend.Activity, error)
	// TrendFeedback returns the analysts' feedback given in [from, to).
	TrendFeedback(ctx context.Context, from, to time.Time) ([]trend.FeedbackRow, error)
	// Problems returns every problem.
	Problems(ctx context.Context) ([]problem.Problem, error)
}

// TrendsPath is the trend endpoint; :name is one of trend.Names().
const TrendsPath = "/api/v1/trends/:name"

// RegisterTrends mounts GET /api/v1/trends/:name (role viewer): the JSON
// trend.Result, or with format=csv its table as CSV. now is the time of a
// request (the default end of the range, and "open now").
func (a *API) RegisterTrends(r gin.IRouter, src TrendSource, now func() time.Time) {
	r.GET(TrendsPath, a.auth.Require(auth.RoleViewer), func(c *gin.Context) {
		q, format, err := parseTrendQuery(c, now())
		if err == nil {
			q, err = q.Normalize()
		}
		if pe, ok := errors.AsType[*trend.ParamError](err); ok {
			badRequest(c, pe.Field, pe.Error())
			return
		}
		res, err := computeTrend(c.Request.Context(), src, q)
		if err != nil {
			a.fail(c, err)
			return
		}
		if format == "csv" {
			c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="vigia-%s-%s-%s.csv"`,
				res.Name, res.From.Format("20060102"), res.To.Format("20060102")))
			c.Header("Content-Type", "text/csv; charset=utf-8")
			c.Status(http.StatusOK)
			if err := res.Table.WriteCSV(c.Writer); err != nil {
				a.logger.Warn("writing a trend as CSV", "name", res.Name, "err", err)
			}
			return
		}
		c.JSON(http.StatusOK, res)
	})
}

// parseTrendQuery reads the path and query parameters; errors are
// *trend.ParamError naming the parameter.
func parseTrendQuery(c *gin.Context, now time.Time) (trend.Query, string, error) {
	q := trend.Query{Name: c.Param("name"), Now: now}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(tf.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				return q, "", &trend.ParamError{Field: tf.name, Msg: "want an RFC3339 time or a date (2006-01-02)"}
			}
			*tf.dst = t
		}
	}
	var err error
	if v := c.Query("step"); v != "" {
		if q.Step, err = trend.ParseStep(v); err != nil {
			return q, "", err
		}
	}
	if v := c.Query("by"); v != "" {
		if q.By, err = trend.ParseDimension(v); err != nil {
			return q, "", err
		}
	}
	for _, nf := range []struct {
		name string
		dst  *int
	}{{"limit", &q.Limit}, {"horizon", &q.Horizon}} {
		if v := c.Query(nf.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return q, "", &trend.ParamError{Field: nf.name, Msg: "want a positive whole number"}
			}
			*nf.dst = n
		}
	}
	format := c.Query("format")
	switch format {
	case "", "json", "csv":
	default:
		return q, "", &trend.ParamError{Field: "format", Msg: fmt.Sprintf("unknown format %q: want json or csv", format)}
	}
	return q, format, nil
}

// computeTrend reads what q needs from src and computes it.
func computeTrend(ctx context.Context, src TrendSource, q trend.Query) (trend.Result, error) {
	var d trend.Data
	var err error
	n := q.Needs()
	if n.Incidents {
		if d.Incidents, err = src.TrendIncidents(ctx, n.From, n.To); err != nil {
			return trend.Result{}, fmt.Errorf("trend %s: %w", q.Name, err)
		}
	}
	if n.Activity {
		if d.Activity, err = src.TrendActivity(ctx, n.From, n.To); err != nil {
			return trend.Result{}, fmt.Errorf("trend %s: %w", q.Name, err)
		}
	}
	if n.Feedback {
		if d.Feedback, err = src.TrendFeedback(ctx, n.From, n.To); err != nil {
			return trend.Result{}, fmt.Errorf("trend %s: %w", q.Name, err)
		}
	}
	if n.Problems {
		if d.Problems, err = src.Problems(ctx); err != nil {
			return trend.Result{}, fmt.Errorf("trend %s: %w", q.Name, err)
		}
	}
	return trend.Compute(q, d)
}

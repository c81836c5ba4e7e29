// Go client_golang's push package against promagg: `push_check BASE_URL ACTION [GAUGE]`.
//
// ACTION is push (Push, PUT), add (Add, POST) or delete (Delete). Bodies are client_golang's
// default, protobuf-delimited MetricFamily messages. Every run registers the same increments
// and sets the gauge to GAUGE; the grouping value holds `/` (client_golang sends it as
// `path@base64/...`). scripts/e2e.sh asserts the aggregated values after each step.
//
// Built offline from Debian's golang-go and golang-github-prometheus-client-golang-dev:
// GO111MODULE=off GOPATH=/usr/share/gocode go build -o push_check push_check.go
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: push_check BASE_URL push|add|delete [GAUGE]")
		os.Exit(2)
	}
	baseURL, action := os.Args[1], os.Args[2]
	gauge := 0.0
	if len(os.Args) > 3 {
		var err error
		if gauge, err = strconv.ParseFloat(os.Args[3], 64); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: GAUGE %q: %v\n", os.Args[3], err)
			os.Exit(2)
		}
	}

	tasks := prometheus.NewCounterVec(
		prometheus.CounterOpts{Name: "gocli_tasks_done_total", Help: "Tasks done."},
		[]string{"queue"},
	)
	tasks.WithLabelValues("emails").Add(4)
	temperature := prometheus.NewGauge(
		prometheus.GaugeOpts{Name: "gocli_temperature_celsius", Help: "Temperature."},
	)
	temperature.Set(gauge)
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "gocli_task_duration_seconds", Help: "Task duration.", Buckets: []float64{0.5, 1},
	})
	duration.Observe(0.75)
	size := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "gocli_payload_bytes", Help: "Payload size.", Objectives: map[float64]float64{0.5: 0.05},
	})
	size.Observe(100)

	pusher := push.New(baseURL, "go_client").
		Grouping("instance", "g1").
		Grouping("path", "batch/nightly").
		Collector(tasks).
		Collector(temperature).
		Collector(duration).
		Collector(size)

	var err error
	switch action {
	case "push":
		err = pusher.Push()
	case "add":
		err = pusher.Add()
	case "delete":
		err = pusher.Delete()
	default:
		err = fmt.Errorf("unknown action %q: expected push, add or delete", action)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: client_golang %s: %v\n", action, err)
		os.Exit(1)
	}
	fmt.Printf("client_golang %s ok\n", action)
}

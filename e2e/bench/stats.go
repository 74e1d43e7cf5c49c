package main

import (
	"fmt"
	"slices"

	"github.com/ssekit/ssekit/e2e/loadtest/load"
)

// summary is the median and range of one figure over runs.
type summary struct {
	n             int
	med, min, max float64
}

// summarize returns the median (the mean of the middle two for an even
// count) and range of vals.
func summarize(vals []float64) summary {
	if len(vals) == 0 {
		return summary{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{n: len(s), med: med, min: s[0], max: s[len(s)-1]}
}

// metric is one figure of a run.
type metric struct {
	name   string
	higher bool // higher is better
	format string
	idle   bool // reported for idle scenarios (else for broadcast ones)
	get    func(load.Result) (float64, bool)
}

func serverFig(f func(*load.ServerFigures) float64) func(load.Result) (float64, bool) {
	return func(r load.Result) (float64, bool) {
		if r.Server == nil {
			return 0, false
		}
		return f(r.Server), true
	}
}

func kernelFig(f func(*load.KernelTCP) int64) func(load.Result) (float64, bool) {
	return func(r load.Result) (float64, bool) {
		if r.Kernel == nil {
			return 0, false
		}
		return float64(f(r.Kernel)), true
	}
}

func always(f func(load.Result) float64) func(load.Result) (float64, bool) {
	return func(r load.Result) (float64, bool) { return f(r), true }
}

var (
	mDeliveries = metric{"deliveries/s", true, "%.0f", false, always(func(r load.Result) float64 { return r.DeliveriesPerSec })}
	mP50        = metric{"latency p50 (ms)", false, "%.1f", false, always(func(r load.Result) float64 { return r.LatencyP50Ms })}
	mP99        = metric{"latency p99 (ms)", false, "%.1f", false, always(func(r load.Result) float64 { return r.LatencyP99Ms })}
	mMax        = metric{"latency max (ms)", false, "%.1f", false, always(func(r load.Result) float64 { return r.LatencyMaxMs })}
	mCPU        = metric{"server CPU per delivery (µs)", false, "%.2f", false, serverFig(func(s *load.ServerFigures) float64 { return s.CPUPerDeliveryUs })}
	mRSS        = metric{"server RSS per stream (KiB)", false, "%.1f", false, serverFig(func(s *load.ServerFigures) float64 { return s.RSSPerConnKiB })}
	mConnect    = metric{"connect all streams (s)", false, "%.2f", false, always(func(r load.Result) float64 { return r.ConnectSeconds })}
	mIdleRSS    = metric{"server RSS per stream (KiB)", false, "%.1f", true, serverFig(func(s *load.ServerFigures) float64 { return s.RSSPerConnKiB })}
	mIdleTotal  = metric{"server RSS with every stream open (MiB)", false, "%.1f", true, serverFig(func(s *load.ServerFigures) float64 { return float64(s.RSSConnectedKiB) / 1024 })}
	mIdleConn   = metric{"connect all streams (s)", false, "%.2f", true, always(func(r load.Result) float64 { return r.ConnectSeconds })}

	mTimeouts = metric{"kernel TCP timeouts, machine-wide", false, "%.0f", false, kernelFig(func(k *load.KernelTCP) int64 { return k.Timeouts })}
	mDrops    = metric{"kernel TCP drops, machine-wide", false, "%.0f", false, kernelFig(func(k *load.KernelTCP) int64 { return k.RcvQDrops + k.ListenDrops })}

	broadcastMetrics = []metric{mDeliveries, mP50, mP99, mMax, mCPU, mRSS, mConnect, mTimeouts, mDrops}
	idleMetrics      = []metric{mIdleRSS, mIdleTotal, mIdleConn, mTimeouts, mDrops}
	// ratioMetrics are the figures compared between ssekit and each peer.
	broadcastRatios = []metric{mDeliveries, mP99, mCPU, mRSS}
	idleRatios      = []metric{mIdleRSS}
)

// over summarises m over the passing runs.
func (m metric) over(runs []load.Result) summary {
	var vals []float64
	for _, r := range runs {
		if v, ok := m.get(r); ok && r.OK {
			vals = append(vals, v)
		}
	}
	return summarize(vals)
}

// cell formats a summary as "median (min–max)".
func (m metric) cell(s summary) string {
	switch s.n {
	case 0:
		return "—"
	case 1:
		return fmt.Sprintf(m.format, s.med)
	}
	return fmt.Sprintf(m.format+" ("+m.format+"–"+m.format+")", s.med, s.min, s.max)
}

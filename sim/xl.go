package sim

// ScaleXL is the throughput scale: the large estate's datacenters, seventeen
// times over (102 datacenters, ~51,000 CIs), with the large scale's fault
// rates per host. Fourteen days of it are about a million alert episodes:
// it sizes benchmarks (scripts/bench-replay.sh), not correlation quality,
// which the small and large scales measure.
const ScaleXL = "xl"

func init() {
	large := shapes["large"]
	large.dcs *= 17
	shapes[ScaleXL] = large
	scaleRates[ScaleXL] = scaleRates["large"]
	Scales = append(Scales, ScaleXL)
}

# scripts/benchlib.sh: helpers shared by the benchmark scripts (sourced).

# port prints a free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_http URL waits up to 20 s for URL to answer 2xx.
wait_http() { for _ in $(seq 1 400); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
# median prints the median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# metric BASE_URL NAME prints the unlabelled sample NAME of BASE_URL/metrics as an integer
# (%.0f: awk's %d stops at 2^31).
metric() { curl -fs "$1/metrics" | awk -v m="$2" '$1 == m {printf "%.0f\n", $2}'; }
# now prints the time in seconds with nanoseconds.
now() { date +%s.%N; }

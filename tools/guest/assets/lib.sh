# Shared by /init and the power-button action of the vmm default guest (busybox ash).

# The consoles the kernel writes to (console=ttyS0, console=hvc0, ...), from
# /sys/class/tty/console/active; /dev/console (the last console= only) if that is unreadable.
probe_consoles() {
  PROBE_CONSOLES=
  if read -r PROBE_CONSOLES < /sys/class/tty/console/active 2>/dev/null; then :; fi
  [ -n "$PROBE_CONSOLES" ] || PROBE_CONSOLES=console
}

# say WORDS...: print one marker line on every console.
say() {
  [ -n "$PROBE_CONSOLES" ] || probe_consoles
  for c in $PROBE_CONSOLES; do
    echo "$*" > "/dev/$c" 2>/dev/null
  done
}

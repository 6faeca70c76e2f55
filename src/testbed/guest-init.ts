/**
 * The /init of the real test guest (a busybox initramfs, no udev, no systemd), and the
 * virtio-serial channel names it serves qemu-ga on.
 */
import { DAQS_AGENT_CHANNEL, GUEST_AGENT_CHANNEL } from '../core/libvirt-names.ts';

/**
 * The emulated host's own channel into a real guest: the testbed starts and stops iperf there
 * (guest-exec). It is separate from the agent daqs uses because a QEMU socket chardev serves
 * one client at a time: a running daemon holds the VM's agent socket for as long as it runs.
 */
export const TESTBED_CHANNEL = 'org.daqs.testbed.0';

/** Channels the guest serves a qemu-ga on, one qemu-ga per channel present. */
export const GUEST_CHANNELS = [GUEST_AGENT_CHANNEL, DAQS_AGENT_CHANNEL, TESTBED_CHANNEL] as const;

/** Kernel command-line key that carries the guest's address (`daqs.ip=10.77.0.1/24`). */
export const GUEST_IP_PARAM = 'daqs.ip';

/** Line /init prints on the console once every agent is started (the console log shows boot progress). */
export const GUEST_READY_LINE = 'daqs-init: ready';

/** File in the initramfs listing the modules to load, one path (under /lib/modules) a line, in load order. */
export const GUEST_MODULE_LIST = '/etc/daqs/modules';

/** PATH of every program the guest runs (qemu-ga's guest-exec searches it for tc, iperf, kill). */
export const GUEST_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

// Channel names are fixed identifiers: checked here so the constant script below stays constant.
for (const name of GUEST_CHANNELS) if (!/^[a-z0-9._]+$/.test(name)) throw new Error(`bad channel name ${name}`);

/**
 * The guest's /init. Constant text: per-VM settings arrive on the kernel command line and are
 * read as data (quoted, globbing off), never spliced into the script. Without udev there is
 * no /dev/virtio-ports/NAME, so each port's name is read from /sys/class/virtio-ports.
 * Every qemu-ga runs in a loop so that one that dies comes back.
 */
export const GUEST_INIT = `#!/bin/sh
# /init of daqs' test guest, written by src/testbed/guest-init.ts.
export PATH=${GUEST_PATH}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp
while read -r mod; do
  insmod "/lib/modules/$mod" || echo "daqs-init: insmod $mod failed"
done < ${GUEST_MODULE_LIST}
set -f
addr=
for arg in $(cat /proc/cmdline); do
  case "$arg" in ${GUEST_IP_PARAM}=*) addr="\${arg#${GUEST_IP_PARAM}=}" ;; esac
done
set +f
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if [ -n "$addr" ]; then ip addr add "$addr" dev eth0; fi
ip link set eth0 up
serve() {
  while :; do
    qemu-ga -m virtio-serial -p "/dev/$1" -t "/run/qga-$1" -f "/run/qga-$1.pid"
    echo "daqs-init: qemu-ga on $1 exited; restarting"
    sleep 1
  done
}
for port in /sys/class/virtio-ports/*; do
  name=$(cat "$port/name" 2>/dev/null)
  dev=\${port##*/}
  case "$name" in
    ${GUEST_CHANNELS.join('|')})
      mkdir -p "/run/qga-$dev"
      serve "$dev" &
      echo "daqs-init: qemu-ga on $dev ($name)" ;;
  esac
done
echo "${GUEST_READY_LINE}"
while :; do sleep 3600; done
`;

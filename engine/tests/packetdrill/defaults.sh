#!/bin/sh
# The TCP settings sockscope's own packetdrill scripts assume, the ones packetdrill's suite
# sets before each script: large receive buffers (so the SYN offers window scale 8),
# timestamps and SACK on, five SYN and SYN+ACK retries, no slow start after idle.
sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640"
sysctl -q net.ipv4.tcp_wmem="4096 262144 4194304"
sysctl -q net.ipv4.tcp_timestamps=1
sysctl -q net.ipv4.tcp_sack=1
sysctl -q net.ipv4.tcp_syn_retries=5
sysctl -q net.ipv4.tcp_synack_retries=5
sysctl -q net.ipv4.tcp_slow_start_after_idle=0

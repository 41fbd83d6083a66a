"""Network captures: pcap/pcapng reading, flows, TCP reassembly and protocol events."""

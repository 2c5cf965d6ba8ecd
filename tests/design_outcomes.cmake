# What each design does in the four removal scenarios, with and without
# fail-back: the violation kinds that must occur (every other kind must not),
# derived from the sources and explained in the README ("Designs, as their
# sources wrote them"). Each line is a ctest case that runs the scenario with
# those kinds expected; the run's exit status 0 means the outcome held. KIND?
# is a race: the kind may occur or not, as the same-picosecond order of the
# run goes (seeds differ on it); every other kind is still refused.
#   design_outcome(SCENARIO DESIGN FAILBACK "KIND KIND? ...")

# IOH1 removed by surprise in the middle of net_dma reads.
design_outcome(ioh-remove-surprise legacy           false "copy_lost hung leaked_pins pool_busy_at_destroy use_after_free use_after_unregister")
design_outcome(ioh-remove-surprise legacy           true  "leaked_pins pool_busy_at_destroy use_after_free use_after_unregister")
design_outcome(ioh-remove-surprise atomic           false "hung removal_incomplete")
design_outcome(ioh-remove-surprise atomic           true  "hung removal_incomplete")
design_outcome(ioh-remove-surprise percpu           false "hung removal_incomplete")
design_outcome(ioh-remove-surprise percpu           true  "hung removal_incomplete")
design_outcome(ioh-remove-surprise client_callbacks false "hung removal_incomplete")
design_outcome(ioh-remove-surprise client_callbacks true  "hung removal_incomplete")
design_outcome(ioh-remove-surprise prep_null        false "copy_lost hung")
design_outcome(ioh-remove-surprise prep_null        true  "")
design_outcome(ioh-remove-surprise mainline         false "hung removal_incomplete")
design_outcome(ioh-remove-surprise mainline         true  "leaked_pins")
design_outcome(ioh-remove-surprise percpu_ref       false "hung removal_incomplete")
design_outcome(ioh-remove-surprise percpu_ref       true  "hung removal_incomplete")

# IOH1 ejected in order: the OS removes its functions while the engines still work.
design_outcome(ioh-remove-orderly legacy            false "copy_lost hung leaked_pins pool_busy_at_destroy use_after_free use_after_unregister")
design_outcome(ioh-remove-orderly legacy            true  "leaked_pins pool_busy_at_destroy use_after_free use_after_unregister")
design_outcome(ioh-remove-orderly atomic            false "")
design_outcome(ioh-remove-orderly atomic            true  "")
design_outcome(ioh-remove-orderly percpu            false "")
design_outcome(ioh-remove-orderly percpu            true  "")
design_outcome(ioh-remove-orderly client_callbacks  false "")
design_outcome(ioh-remove-orderly client_callbacks  true  "")
design_outcome(ioh-remove-orderly prep_null         false "copy_lost hung oops")
design_outcome(ioh-remove-orderly prep_null         true  "")
design_outcome(ioh-remove-orderly mainline          false "copy_lost hung leaked_pins")
design_outcome(ioh-remove-orderly mainline          true  "leaked_pins")
design_outcome(ioh-remove-orderly percpu_ref        false "leaked_pins")
design_outcome(ioh-remove-orderly percpu_ref        true  "leaked_pins")

# 0000:80:16.7 unbound under load, bound again.
design_outcome(unbind-under-load legacy             false "copy_lost hung leaked_pins pool_busy_at_destroy use_after_free use_after_unregister")
design_outcome(unbind-under-load legacy             true  "leaked_pins pool_busy_at_destroy use_after_free? use_after_unregister")
design_outcome(unbind-under-load atomic             false "")
design_outcome(unbind-under-load atomic             true  "")
design_outcome(unbind-under-load percpu             false "")
design_outcome(unbind-under-load percpu             true  "")
design_outcome(unbind-under-load client_callbacks   false "")
design_outcome(unbind-under-load client_callbacks   true  "")
design_outcome(unbind-under-load prep_null          false "")
design_outcome(unbind-under-load prep_null          true  "")
design_outcome(unbind-under-load mainline           false "copy_lost hung leaked_pins")
design_outcome(unbind-under-load mainline           true  "leaked_pins")
design_outcome(unbind-under-load percpu_ref         false "leaked_pins")
design_outcome(unbind-under-load percpu_ref         true  "leaked_pins")

# Socket 3's CPUs offline, dmatest's function unbound, the CPUs back.
design_outcome(cpu-hotplug legacy                   false "copy_lost leaked_pins pool_busy_at_destroy table use_after_free use_after_unregister")
design_outcome(cpu-hotplug legacy                   true  "leaked_pins pool_busy_at_destroy table use_after_free use_after_unregister")
design_outcome(cpu-hotplug atomic                   false "removal_incomplete")
design_outcome(cpu-hotplug atomic                   true  "")
design_outcome(cpu-hotplug percpu                   false "removal_incomplete")
design_outcome(cpu-hotplug percpu                   true  "")
design_outcome(cpu-hotplug client_callbacks         false "")
design_outcome(cpu-hotplug client_callbacks         true  "")
design_outcome(cpu-hotplug prep_null                false "table")
design_outcome(cpu-hotplug prep_null                true  "table")
design_outcome(cpu-hotplug mainline                 false "leaked_pins table")
design_outcome(cpu-hotplug mainline                 true  "leaked_pins table")
design_outcome(cpu-hotplug percpu_ref               false "leaked_pins")
design_outcome(cpu-hotplug percpu_ref               true  "leaked_pins")

# Socket 2 of an Ivy Bridge-EX removed as an ACPI container eject, with its IIO,
# and added back. On IVB the 3.10-era driver's 64-byte copy alignment keeps
# net_dma off IOAT and DCA masks PQ: dmatest on 80:04.0 is the only DMA client.
design_outcome(socket-remove legacy            false "copy_lost? leaked_pins pool_busy_at_destroy table use_after_free use_after_unregister")
design_outcome(socket-remove legacy            true  "leaked_pins pool_busy_at_destroy table use_after_free use_after_unregister")
design_outcome(socket-remove atomic            false "hung removal_incomplete")
design_outcome(socket-remove atomic            true  "")
design_outcome(socket-remove percpu            false "hung? removal_incomplete?")
design_outcome(socket-remove percpu            true  "")
design_outcome(socket-remove client_callbacks  false "hung removal_incomplete")
design_outcome(socket-remove client_callbacks  true  "")
design_outcome(socket-remove prep_null         false "table")
design_outcome(socket-remove prep_null         true  "table")
design_outcome(socket-remove mainline          false "leaked_pins table")
design_outcome(socket-remove mainline          true  "leaked_pins table")
design_outcome(socket-remove percpu_ref        false "leaked_pins table")
design_outcome(socket-remove percpu_ref        true  "leaked_pins table")

/** Issue #8 will add chaos experiments; until then this view says so and offers nothing to press. */
export function ChaosView() {
  return (
    <section className="panel" aria-labelledby="chaos-heading">
      <h2 id="chaos-heading">Chaos experiments</h2>
      <p>
        Chaos experiments are not available yet (issue #8). When they are, this view will start and follow them; until then,
        a region outage can be staged on this twin from the command line with <code>rotor region kill &lt;region&gt;</code> (and
        undone with <code>rotor region start &lt;region&gt;</code>) and watched in the other views; <code>rotor drill region-outage</code>{' '}
        rehearses one end to end on a twin of its own.
      </p>
    </section>
  );
}

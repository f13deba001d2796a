import type { EventPublisher, OutgoingEvent } from '../events/index.js';
import type { ServiceDeclaration } from '../services/topology.js';

/** A service published a detail-type its topology entry does not declare: a bug in the service or the entry. */
export class UndeclaredDetailTypeError extends Error {
  override readonly name = 'UndeclaredDetailTypeError';
  /** The same call fails the same way: retrying cannot help. */
  readonly retryable = false;
}

/**
 * The publisher a service gets on the local bus: it sends only the detail-types the service's entry `publishes`,
 * as the service's IAM policy lets it put only those on the bus in AWS (an `events:detail-type` condition derived
 * from the same entry). A call with one undeclared entry sends none of them.
 */
export function declaredPublisher(
  service: string,
  declaration: Pick<ServiceDeclaration, 'publishes'>,
  publisher: EventPublisher,
): EventPublisher {
  const declared: readonly string[] = declaration.publishes;
  return {
    publish(events: readonly OutgoingEvent[]): Promise<void> {
      const undeclared = events.find((event) => !declared.includes(event.detailType));
      if (undeclared !== undefined) {
        const list = declared.length === 0 ? 'nothing' : declared.join(', ');
        return Promise.reject(
          new UndeclaredDetailTypeError(
            `service ${service} may not publish ${undeclared.detailType}: services/topology.ts declares that it publishes ${list}`,
          ),
        );
      }
      return publisher.publish(events);
    },
  };
}

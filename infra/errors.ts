/** The topology or configuration asks for something AWS would refuse or the design forbids; raised at synth. */
export class InvalidDeploymentError extends Error {
  override readonly name = 'InvalidDeploymentError';
}

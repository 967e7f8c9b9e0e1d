// asl-validator 4 ships JavaScript only; this declares the one call Rotor makes.
declare module 'asl-validator' {
  interface AslValidationOptions {
    readonly checkPaths: boolean;
    readonly checkArn: boolean;
  }
  interface AslValidationResult {
    isValid: boolean;
    errors: Array<{ 'Error code'?: string; Message?: string; message?: string }>;
    errorsText: (separator?: string) => string;
  }
  function aslValidator(definition: object, options?: AslValidationOptions): AslValidationResult;
  export = aslValidator;
}

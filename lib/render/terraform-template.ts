/**
 * Makes text literal inside a Terraform string: `${` and `%{` start template
 * interpolations and directives, so they are doubled (`$${`, `%%{`). Unit
 * files use `${VAR}` for systemd's own expansion; without this, Terraform
 * would try to evaluate it when the text becomes an attribute such as EC2
 * user data.
 */
export function literalTerraformString(text: string): string {
  return text.replace(/([$%])\{/g, "$1$1{");
}

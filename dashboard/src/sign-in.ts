/** The sign-in form shown on a 401: an API key (or JWT) kept in localStorage and sent as a bearer token. */
import { setToken, token } from './api.ts';
import { h } from './dom.ts';

/** The form; `onSignedIn` redraws the page. */
export function signInForm(options: { message: string; onSignedIn: () => void }): HTMLElement {
  const input = h('input', {
    id: 'token',
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    placeholder: 'API key or token',
    required: true,
  }) as HTMLInputElement;
  const form = h(
    'form',
    {
      class: 'card sign-in',
      onsubmit: (event: Event) => {
        event.preventDefault();
        setToken(input.value.trim());
        options.onSignedIn();
      },
    },
    h('h2', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      token() === null ? 'This server needs an API key.' : `The key was refused: ${options.message}`,
    ),
    h('label', { for: 'token' }, 'API key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  return form;
}

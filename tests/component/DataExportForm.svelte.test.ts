import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import DataExportForm from '../../src/lib/components/DataExportForm.svelte';
import DeletionDue from '../../src/lib/components/DeletionDue.svelte';
import { server } from '../mocks/node';

vi.mock('$app/state', () => ({ page: { data: { timeZone: 'Asia/Shanghai' } } }));

const FILE = 'account-data-2026-12-06.json';
let saved: Blob[] = [];

beforeEach(() => {
	saved = [];
	// jsdom has no object URLs: record what would be saved.
	URL.createObjectURL = vi.fn((blob: Blob) => {
		saved.push(blob);
		return 'blob:export';
	});
	URL.revokeObjectURL = vi.fn();
	vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** The export endpoint answering `answer`, keeping the bodies it was sent. */
function exportAnswers(answer: () => Response) {
	const sent: unknown[] = [];
	server.use(
		http.post('*/api/v1/account/export', async ({ request }) => {
			sent.push(await request.json());
			return answer();
		})
	);
	return sent;
}

describe('DataExportForm (R28, JavaScript on)', () => {
	it('a wrong password is marked at the field, read out and focused; nothing is saved', async () => {
		exportAnswers(() =>
			HttpResponse.json(
				{
					error: {
						code: 'invalid_credentials',
						message: 'Your current password is not right.',
						fields: { currentPassword: 'Your current password is not right.' }
					}
				},
				{ status: 403 }
			)
		);
		render(DataExportForm, { totpOn: false });
		await userEvent.type(screen.getByLabelText('Current password'), 'wrong one');
		await userEvent.click(screen.getByRole('button', { name: 'Download my data' }));
		const field = screen.getByLabelText('Current password');
		expect(await screen.findByRole('alert')).toHaveTextContent(
			'Your current password is not right.'
		);
		expect(field).toHaveAttribute('aria-invalid', 'true');
		expect(field).toHaveFocus();
		expect(saved).toEqual([]);
	});

	it('the answer is saved under the name the server gave it, and the result is read out', async () => {
		const sent = exportAnswers(
			() =>
				new HttpResponse(JSON.stringify({ format: 'account-security-check.export' }), {
					headers: {
						'content-type': 'application/json',
						'content-disposition': `attachment; filename="${FILE}"`
					}
				})
		);
		render(DataExportForm, { totpOn: true });
		await userEvent.type(screen.getByLabelText('Current password'), 'a long and quiet river');
		await userEvent.type(
			screen.getByLabelText('Code from your authenticator app, or a recovery code'),
			'123456'
		);
		await userEvent.click(screen.getByRole('button', { name: 'Download my data' }));
		expect(await screen.findByText(`Your copy is downloading: ${FILE}.`)).toHaveAttribute(
			'role',
			'status'
		);
		expect(sent).toEqual([{ currentPassword: 'a long and quiet river', code: '123456' }]);
		expect(await saved[0]!.text()).toContain('account-security-check.export');
		expect(screen.getByLabelText('Current password')).toHaveValue('');
	});

	it('without JavaScript the page names the refusal: a known code at its field, any other as a generic alert', () => {
		const { unmount } = render(DataExportForm, {
			totpOn: true,
			refused: 'second_factor_required'
		});
		const code = screen.getByLabelText('Code from your authenticator app, or a recovery code');
		expect(code).toHaveAttribute('aria-invalid', 'true');
		expect(screen.getByRole('alert')).toHaveTextContent(
			'Enter a code from your authenticator app, or one of your recovery codes.'
		);
		unmount();
		render(DataExportForm, { totpOn: false, refused: 'failed' });
		expect(screen.getByRole('alert')).toHaveTextContent('Your copy could not be made. Try again.');
		expect(screen.getByLabelText('Current password')).not.toHaveAttribute('aria-invalid');
	});
});

describe('DeletionDue (R28, R14)', () => {
	it('says the deletion time in the person zone, inside the translated sentence', () => {
		render(DeletionDue, { iso: '2026-01-01T00:00:00.000Z' });
		expect(screen.getByText(/^Your account will be deleted on/)).toHaveTextContent(
			/^Your account will be deleted on Jan 1, 2026, 08:00 AM GMT\+8\.$/
		);
	});
});

import { createContext, useContext } from 'react';

/** The bearer token, given once by App to every view that calls the API. */
export const TokenContext = createContext<string>('');

export const useToken = () => useContext(TokenContext);
